"""SendMessageBatch on a standard queue: the plain path (every entry an Id and a printable ASCII
body, sent without the general checks) gives what the general path gives on every input — the
results, the error that refuses the whole call, and what the queue then holds."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

import decoupling as dc

texts = st.text(alphabet="ab \t~é\x00", min_size=1, max_size=4)  # printable ASCII or not
bodies = st.one_of(
    texts, texts, texts, texts,  # mostly text: a batch takes the plain path only if all are
    st.sampled_from(["", "a" * 1024, "a" * 1025, "b" * 120_000]),  # limits (queue max 1,024)
    st.integers(0, 2),
    st.none(),
)
send_entry = st.one_of(
    st.builds(lambda body: {"MessageBody": body}, bodies),
    st.builds(lambda body: {"MessageBody": body, "DelaySeconds": 0}, bodies),
    st.just({}),
)


def _sent(queue: dc.Queue, entries: list[Any]) -> Any:
    try:
        result = queue.send_batch(entries)
    except dc.DecouplingError as error:
        return (type(error), str(error))
    return (
        [(ok["Id"], ok["MD5OfMessageBody"]) for ok in result.successful],
        result.failed,
        [m.body for m in queue.receive(10)] if len(queue) else [],
    )


@given(st.lists(send_entry, min_size=1, max_size=10))
@example([{"MessageBody": "a"}, {"MessageBody": "b\x00"}])
@example([{"MessageBody": "a" * 1024}] * 2)
def test_the_plain_batch_path_and_the_general_path_agree(entries: list[Any]) -> None:
    entries = [{"Id": str(i), **e} for i, e in enumerate(entries)]
    loop = dc.EventLoop(clock=dc.ManualClock())
    fast = dc.Queue(loop, "fast", maximum_message_size=1024)
    general = dc.Queue(loop, "general", maximum_message_size=1024)
    general._send_plain_batch = lambda normalized, now: None  # type: ignore[method-assign]
    assert _sent(fast, entries) == _sent(general, entries)


def test_a_plain_batch_over_1_mib_is_refused_whole_either_way() -> None:
    entries = [{"Id": str(i), "MessageBody": "b" * 230_000} for i in range(5)]  # 1,150,000 B
    loop = dc.EventLoop(clock=dc.ManualClock())
    fast, general = dc.Queue(loop, "fast"), dc.Queue(loop, "general")
    general._send_plain_batch = lambda normalized, now: None  # type: ignore[method-assign]
    expected = (dc.errors.BatchRequestTooLong, "BatchRequestTooLong: Batch requests cannot be "
                "longer than 1048576 bytes. You have sent 1150000 bytes.")
    assert _sent(fast, entries) == _sent(general, entries) == expected
    assert len(fast) == len(general) == 0
