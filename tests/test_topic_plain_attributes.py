"""Publish attributes take a fast path when they are plain ``str``/``int`` values
(``sns_message.plain_attributes``) and the full checks otherwise
(``sns_attributes.normalize_sns_attributes``). The two must agree on every input: the same
attributes, the same error, the same envelope in a subscribed queue."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import decoupling as dc
from decoupling.errors import DecouplingError
from decoupling.sns.attributes import normalize_sns_attributes
from decoupling.sns.message import plain_attributes

# Names: mostly valid, sometimes not (AWS. prefix, dots, too long, empty, odd characters).
names = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
    st.sampled_from(["AWS.x", "a..b", ".a", "a.", "", "x" * 257, "é", "a b"]),
)
# Values: plain ones (printable ASCII text, ints up to 39 characters) and the edges around them.
values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
    st.integers(min_value=-(10**39), max_value=10**39),
    st.sampled_from(["", "tab\there", "ünï", "line\nbreak"]),
    # around the fast path's 39-character limit for numbers
    st.sampled_from([10**38 - 1, 10**38, -(10**37), -(10**38), -(10**38) + 1, 10**39 - 1]),
)


def outcome(fn: Any, attributes: dict[str, Any]) -> Any:
    try:
        return ("ok", fn(attributes))
    except DecouplingError as error:
        return ("error", error.code, error.message)


@settings(max_examples=40)  # 1.3 s at the profile's 100 here; more in the soak profile
@given(st.dictionaries(names, values, max_size=12))
def test_the_fast_path_agrees_with_the_full_checks(attributes: dict[str, Any]) -> None:
    full = outcome(normalize_sns_attributes, attributes)
    fast = outcome(plain_attributes, attributes)
    if fast[0] == "error":
        assert fast == full  # the same error, from the same entry
    elif fast[1] is not None:  # taken: the same (name, DataType, value) triples
        assert full[0] == "ok"
        assert list(fast[1]) == [
            (name, value.data_type, value.string_value) for name, value in full[1].items()
        ]


def test_plain_values_and_objects_give_the_same_envelope() -> None:
    loop = dc.EventLoop(clock=dc.ManualClock(epoch=1_800_000_000.0))
    q = dc.Queue(loop, "inbox")
    topic = dc.Topic(loop, "events")
    topic.subscribe(q)
    topic.publish("m", message_attributes={"store": "eu", "qty": 2})  # the fast path
    topic.publish("m", message_attributes={  # the full path
        "store": dc.MessageAttributeValue("String", "eu"),
        "qty": dc.MessageAttributeValue("Number", "2"),
    })
    first, second = (json.loads(m.body) for m in q.receive(10))
    assert first["MessageAttributes"] == second["MessageAttributes"] == {
        "store": {"Type": "String", "Value": "eu"},
        "qty": {"Type": "Number", "Value": "2"},
    }
