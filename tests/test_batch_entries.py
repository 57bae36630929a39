"""A batch's entries are checked one way whatever path takes them: the whole-batch fast check
for lists of dicts agrees with the entry-by-entry loop (reached here with a tuple) on every
input, in the result and in the error raised."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import decoupling as dc

ids = st.one_of(
    st.text(alphabet="ab01-_é ", max_size=3),
    st.text(alphabet="a", min_size=79, max_size=81),
    st.integers(0, 3),
    st.none(),
)
entry = st.one_of(
    st.fixed_dictionaries({"Id": ids, "MessageBody": st.just("x")}),
    st.fixed_dictionaries({"MessageBody": st.just("x")}),
    st.just("plain body"),
)


def _outcome(entries: Any) -> Any:
    try:
        return dc.Queue._batch_entries(entries)
    except dc.DecouplingError as error:
        return (type(error), str(error))


@given(st.lists(entry, max_size=12))
def test_fast_and_entry_by_entry_checks_agree(entries: list[Any]) -> None:
    assert _outcome(entries) == _outcome(tuple(entries))


def _batch(*ids: Any) -> list[Any]:
    return [{"Id": i, "MessageBody": "x"} for i in ids]


@pytest.mark.parametrize("entries", [
    _batch("0", "1"),
    _batch("0", ""),  # empty id
    _batch("0", "a" * 80),
    _batch("0", "a" * 81),  # too long
    _batch("0", "a-b_c"),  # valid, but not letters and digits only
    _batch("0", "é"),  # a letter, not ASCII
    _batch("0", 1),  # not a str
    _batch("0", "0"),  # repeated
    [{"Id": "0", "MessageBody": "x"}, {"MessageBody": "x"}],  # no Id
    [{"Id": "0", "MessageBody": "x"}, "plain"],  # a plain body: Id = index
    _batch(*map(str, range(11))),  # too many
])
def test_each_kind_of_entry_gets_the_same_answer_both_ways(entries: list[Any]) -> None:
    assert _outcome(entries) == _outcome(tuple(entries))


def test_the_common_batch_keeps_ids_and_entries_in_order() -> None:
    entries = [{"Id": str(i), "MessageBody": "x"} for i in range(10)]
    assert dc.Queue._batch_entries(entries) == [(str(i), e) for i, e in enumerate(entries)]
    repeated = [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}]
    try:
        dc.Queue._batch_entries(repeated)
    except dc.errors.BatchEntryIdsNotDistinct as error:
        assert str(error) == "BatchEntryIdsNotDistinct: Id a repeated."
    else:
        raise AssertionError("a repeated Id was accepted")


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
