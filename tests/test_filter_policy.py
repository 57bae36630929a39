"""Tests for decoupling.sns.filter_policy: AWS documentation examples, every operator, both scopes,
and every compile-time rejection. Pages cited are from the Amazon SNS Developer Guide."""

from __future__ import annotations

import json
from typing import Any

import pytest

from decoupling.errors import InvalidParameter
from decoupling.sns.filter_policy import MAX_POLICY_BYTES, FilterPolicy


def S(value: str) -> tuple[str, str]:
    return ("String", value)


def N(value: str) -> tuple[str, str]:
    return ("Number", value)


def A(*elements: Any) -> tuple[str, str]:
    return ("String.Array", json.dumps(list(elements)))


def B(value: str) -> tuple[str, str]:
    return ("Binary", value)


# Page "Example filter policies": the example message's attributes.
EXAMPLE_ATTRIBUTES = {
    "customer_interests": A("soccer", "rugby", "hockey"),
    "store": S("example_corp"),
    "event": S("order_placed"),
    "price_usd": N("210.75"),
}
EXAMPLE_ACCEPTS = {
    "store": ["example_corp"],
    "event": [{"anything-but": "order_cancelled"}],
    "customer_interests": ["rugby", "football", "baseball"],
    "price_usd": [{"numeric": [">=", 100]}],
}
EXAMPLE_REJECTS = {
    "store": ["example_corp"],
    "event": ["order_cancelled"],
    "encrypted": [False],
    "customer_interests": ["basketball", "baseball"],
}

RUGBY_TENNIS = {"customer_interests": ["rugby", "tennis"]}
NOT_RUGBY_TENNIS = {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}
STANDARD_OR = {  # page "AND/OR logic", standard OR
    "source": ["aws.cloudwatch"],
    "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
}
NESTED_OR = {  # page "AND/OR logic", nested OR
    "source": ["aws.cloudwatch"],
    "$or": [
        {"metricName": ["CPUUtilization", "ReadLatency"]},
        {
            "metricType": ["MetricType"],
            "$or": [{"metricId": [1234, 4321]}, {"spaceId": [1000, 2000, 3000]}],
        },
    ],
}

ATTRIBUTE_CASES = [
    # Page "Example filter policies"
    pytest.param(EXAMPLE_ACCEPTS, EXAMPLE_ATTRIBUTES, True, id="aws-example-accepts"),
    pytest.param(EXAMPLE_REJECTS, EXAMPLE_ATTRIBUTES, False, id="aws-example-rejects"),
    pytest.param({"encrypted": [False]}, EXAMPLE_ATTRIBUTES, False, id="aws-example-missing-key"),
    # Page "String value matching": exact
    pytest.param(RUGBY_TENNIS, {"customer_interests": S("rugby")}, True, id="exact-rugby"),
    pytest.param(RUGBY_TENNIS, {"customer_interests": S("tennis")}, True, id="exact-tennis"),
    pytest.param(RUGBY_TENNIS, {"customer_interests": A("rugby", "tennis")}, True, id="exact-arr"),
    pytest.param(RUGBY_TENNIS, {"customer_interests": S("baseball")}, False, id="exact-miss"),
    pytest.param(RUGBY_TENNIS, {"customer_interests": A("baseball")}, False, id="exact-arr-miss"),
    pytest.param(RUGBY_TENNIS, {"customer_interests": S("Rugby")}, False, id="exact-case"),
    pytest.param(RUGBY_TENNIS, {"other": S("rugby")}, False, id="exact-absent"),
    # anything-but (a String.Array matches only if none of its elements is listed)
    pytest.param(NOT_RUGBY_TENNIS, {"customer_interests": S("baseball")}, True, id="ab-baseball"),
    pytest.param(NOT_RUGBY_TENNIS, {"customer_interests": S("football")}, True, id="ab-football"),
    pytest.param(NOT_RUGBY_TENNIS, {"customer_interests": S("rugby")}, False, id="ab-rugby"),
    pytest.param(
        NOT_RUGBY_TENNIS, {"customer_interests": A("baseball", "football")}, True, id="ab-arr"
    ),
    pytest.param(
        NOT_RUGBY_TENNIS, {"customer_interests": A("rugby", "baseball")}, False, id="ab-arr-listed"
    ),
    pytest.param(NOT_RUGBY_TENNIS, {"other": S("baseball")}, False, id="ab-absent"),
    pytest.param({"k": [{"anything-but": "whatever"}]}, {"k": N("5")}, True, id="ab-number-attr"),
    pytest.param({"k": [{"anything-but": [100, 500]}]}, {"k": N("101")}, True, id="ab-num-101"),
    pytest.param({"k": [{"anything-but": [100, 500]}]}, {"k": N("100")}, False, id="ab-num-100"),
    pytest.param({"k": [{"anything-but": [100, 500]}]}, {"k": N("500.0")}, False, id="ab-num-500"),
    # prefix
    pytest.param({"ci": [{"prefix": "bas"}]}, {"ci": S("baseball")}, True, id="prefix-baseball"),
    pytest.param({"ci": [{"prefix": "bas"}]}, {"ci": S("basketball")}, True, id="prefix-basket"),
    pytest.param({"ci": [{"prefix": "bas"}]}, {"ci": S("rugby")}, False, id="prefix-rugby"),
    pytest.param({"ci": [{"prefix": "12"}]}, {"ci": N("123")}, False, id="prefix-number-attr"),
    # anything-but prefix / suffix / wildcard
    pytest.param(
        {"event": [{"anything-but": {"prefix": "order-"}}]},
        {"event": S("data-entry")},
        True,
        id="ab-prefix-data-entry",
    ),
    pytest.param(
        {"event": [{"anything-but": {"prefix": "order-"}}]},
        {"event": S("order_number")},
        True,
        id="ab-prefix-order_number",
    ),
    pytest.param(
        {"event": [{"anything-but": {"prefix": "order-"}}]},
        {"event": S("order-cancelled")},
        False,
        id="ab-prefix-order-cancelled",
    ),
    pytest.param(
        {"f": [{"anything-but": {"suffix": ".png"}}]}, {"f": S("a.jpg")}, True, id="ab-suffix-other"
    ),
    pytest.param(
        {"f": [{"anything-but": {"suffix": ".png"}}]}, {"f": S("a.png")}, False, id="ab-suffix-same"
    ),
    pytest.param(
        {"f": [{"anything-but": {"wildcard": "img/*"}}]},
        {"f": S("doc/a")},
        True,
        id="ab-wildcard-other",
    ),
    pytest.param(
        {"f": [{"anything-but": {"wildcard": "img/*"}}]},
        {"f": S("img/a")},
        False,
        id="ab-wildcard-same",
    ),
    # suffix, equals-ignore-case, wildcard
    pytest.param({"f": [{"suffix": ".png"}]}, {"f": S("image.png")}, True, id="suffix-hit"),
    pytest.param({"f": [{"suffix": ".png"}]}, {"f": S("image.jpg")}, False, id="suffix-miss"),
    pytest.param({"f": [{"equals-ignore-case": "RuGbY"}]}, {"f": S("rugby")}, True, id="eic-low"),
    pytest.param({"f": [{"equals-ignore-case": "RuGbY"}]}, {"f": S("RUGBY")}, True, id="eic-up"),
    pytest.param(
        {"f": [{"equals-ignore-case": "rugby"}]}, {"f": S("rugby league")}, False, id="eic-longer"
    ),
    pytest.param({"f": [{"wildcard": "*.png"}]}, {"f": S("a.png")}, True, id="wild-suffix"),
    pytest.param({"f": [{"wildcard": "*.png"}]}, {"f": S("a.png.gz")}, False, id="wild-whole"),
    pytest.param({"f": [{"wildcard": "a*b*c"}]}, {"f": S("aXbYc")}, True, id="wild-two"),
    pytest.param({"f": [{"wildcard": "a*b*c"}]}, {"f": S("abc")}, True, id="wild-empty-runs"),
    pytest.param({"f": [{"wildcard": "a*b*c"}]}, {"f": S("acb")}, False, id="wild-order"),
    pytest.param({"f": [{"wildcard": "a\\*b"}]}, {"f": S("a*b")}, True, id="wild-escaped-star"),
    pytest.param({"f": [{"wildcard": "a\\*b"}]}, {"f": S("aXb")}, False, id="wild-escaped-only"),
    pytest.param({"f": [{"wildcard": "a.c"}]}, {"f": S("abc")}, False, id="wild-dot-literal"),
    # Page "String value matching": IP address matching
    pytest.param({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": S("10.0.0.0")}, True, id="cidr-low"),
    pytest.param({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": S("10.0.0.255")}, True, id="cidr-hi"),
    pytest.param({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": S("10.1.1.0")}, False, id="cidr-out"),
    pytest.param({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": S("not-an-ip")}, False, id="cidr-junk"),
    pytest.param({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": S("2001:db8::1")}, True, id="cidr6"),
    pytest.param(
        {"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": S("2001:db9::1")}, False, id="cidr6-out"
    ),
    pytest.param(
        {"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": S("10.0.0.1")}, False, id="cidr6-v4-value"
    ),
    # Page "Numeric value matching"
    # Numbers match to six digits after the point, the rest cut off: "five digits of accuracy"
    # (page "Filter policy constraints") bounds what a policy tells apart; moto notes six.
    pytest.param({"p": [100.123456789]}, {"p": N("100.1234567")}, True, id="num-digits-cut"),
    pytest.param({"p": [100.123456789]}, {"p": N("100.123457")}, False, id="num-digits-6th"),
    pytest.param({"p": [1.000001]}, {"p": N("1.000001")}, True, id="num-digits-binary"),
    pytest.param({"p": [1.000001]}, {"p": N("1.0000005")}, False, id="num-digits-decimal-cut"),
    pytest.param({"p": [-2.5000009]}, {"p": N("-2.5")}, True, id="num-digits-negative"),
    pytest.param({"p": [{"numeric": ["=", 7.0000001]}]}, {"p": N("7")}, True, id="num-eq-digits"),
    pytest.param({"p": [{"anything-but": [0.0000011]}]}, {"p": N("0.000001")}, False,
                 id="num-digits-anything-but"),
    pytest.param({"p": [5]}, {"p": N("1e999")}, False, id="num-infinite-value"),
    pytest.param({"p": [{"numeric": ["=", 301.5]}]}, {"p": N("301.5")}, True, id="num-eq"),
    pytest.param({"p": [{"numeric": ["=", 301.5]}]}, {"p": N("3.015e2")}, True, id="num-eq-exp"),
    pytest.param({"p": [{"numeric": ["=", 301.5]}]}, {"p": N("301.50001")}, False, id="num-ne"),
    pytest.param({"p": [{"numeric": ["=", 301.5]}]}, {"p": S("301.5")}, False, id="num-string"),
    pytest.param({"p": [{"numeric": ["<", 0]}]}, {"p": N("-0.5")}, True, id="num-lt"),
    pytest.param({"p": [{"numeric": ["<", 0]}]}, {"p": N("0")}, False, id="num-lt-edge"),
    pytest.param({"p": [{"numeric": [">", 0, "<=", 150]}]}, {"p": N("100")}, True, id="range-in"),
    pytest.param({"p": [{"numeric": [">", 0, "<=", 150]}]}, {"p": N("150")}, True, id="range-top"),
    pytest.param({"p": [{"numeric": [">", 0, "<=", 150]}]}, {"p": N("0")}, False, id="range-bot"),
    pytest.param(
        {"p": [{"numeric": [">", 0, "<=", 150]}]}, {"p": N("150.5")}, False, id="range-above"
    ),
    pytest.param({"p": [{"numeric": [">=", 0, "<", 1]}]}, {"p": N("0")}, True, id="range-ge"),
    pytest.param({"p": [{"numeric": [">=", 0, "<", 1]}]}, {"p": N("1")}, False, id="range-lt"),
    pytest.param({"p": [{"numeric": [">", 5]}]}, {"p": N("abc")}, False, id="num-malformed"),
    pytest.param({"p": [{"numeric": [">", 5]}]}, {"p": N("nan")}, False, id="num-nan"),
    pytest.param({"p": [301.5]}, {"p": N("301.50")}, True, id="exact-number"),
    pytest.param({"p": [301.5]}, {"p": S("301.5")}, False, id="exact-number-vs-string"),
    pytest.param({"p": ["5"]}, {"p": N("5")}, False, id="exact-string-vs-number"),
    pytest.param({"p": [5]}, {"p": ("Number.float", "5.0")}, True, id="custom-number-type"),
    pytest.param({"p": ["x"]}, {"p": ("String.custom", "x")}, True, id="custom-string-type"),
    # String.Array elements: strings, numbers, booleans, null
    pytest.param({"m": [1234]}, {"m": A(1234, 4321)}, True, id="arr-number"),
    pytest.param({"m": [{"numeric": [">", 4000]}]}, {"m": A(1234, 4321)}, True, id="arr-numeric"),
    pytest.param({"m": [{"numeric": [">", 4000]}]}, {"m": A("5000")}, False, id="arr-num-text"),
    pytest.param({"m": [True]}, {"m": A(True, None)}, True, id="arr-true"),
    pytest.param({"m": [False]}, {"m": A(True, None)}, False, id="arr-false"),
    pytest.param({"m": [None]}, {"m": A(True, None)}, True, id="arr-null"),
    pytest.param({"m": [True]}, {"m": S("true")}, False, id="bool-vs-string"),
    pytest.param({"m": ["a"]}, {"m": ("String.Array", "not json")}, False, id="arr-malformed"),
    # Not an array (SNS takes any text; moto's tests say "the correct behavior from SNS"): a
    # JSON scalar is one value, an object none.
    pytest.param({"m": ["a"]}, {"m": ("String.Array", '"a"')}, True, id="arr-scalar-string"),
    pytest.param({"m": [100]}, {"m": ("String.Array", "100")}, True, id="arr-scalar-number"),
    pytest.param({"m": [100]}, {"m": ("String.Array", "one hundred")}, False, id="arr-not-json"),
    pytest.param({"m": ["a"]}, {"m": ("String.Array", '{"m": "a"}')}, False, id="arr-object"),
    # Binary attributes are ignored
    pytest.param({"blob": ["abc"]}, {"blob": B("abc")}, False, id="binary-value"),
    pytest.param(
        {"blob": [{"exists": True}]},
        {"blob": B("abc"), "x": S("y")},
        False,
        id="binary-exists-true",
    ),
    pytest.param(
        {"blob": [{"exists": False}]},
        {"blob": B("abc"), "x": S("y")},
        True,
        id="binary-exists-false",
    ),
    # Page "Key matching"
    pytest.param(
        {"store": [{"exists": True}]},
        {"store": S("fans"), "customer_interests": A("baseball", "basketball")},
        True,
        id="exists-true-present",
    ),
    pytest.param(
        {"store": [{"exists": True}]},
        {"customer_interests": A("baseball", "basketball")},
        False,
        id="exists-true-absent",
    ),
    pytest.param(
        {"store": [{"exists": False}]},
        {"store": S("fans"), "customer_interests": A("baseball", "basketball")},
        False,
        id="exists-false-present",
    ),
    pytest.param(
        {"store": [{"exists": False}]},
        {"customer_interests": A("baseball", "basketball")},
        True,
        id="exists-false-absent",
    ),
    pytest.param({"store": [{"exists": False}]}, {}, False, id="exists-false-no-attributes"),
    pytest.param({"store": [{"exists": False}]}, {"b": B("x")}, False, id="exists-false-binary"),
    pytest.param(
        {"k": [{"exists": False}, {"anything-but": "x"}]},
        {"o": S("1")},
        True,
        id="exists-false-or-anything-but",
    ),
    pytest.param(
        {"k": [None, {"anything-but": "whatever"}]},
        {"o": S("1")},
        False,
        id="null-does-not-match-absent",
    ),
    # Page "AND/OR logic"
    pytest.param(
        {"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]},
        {"customer_interests": S("rugby"), "price_usd": N("101")},
        True,
        id="and-both",
    ),
    pytest.param(
        {"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]},
        {"customer_interests": S("rugby"), "price_usd": N("100")},
        False,
        id="and-one",
    ),
    pytest.param(
        STANDARD_OR,
        {"source": S("aws.cloudwatch"), "metricName": S("CPUUtilization")},
        True,
        id="or-first",
    ),
    pytest.param(
        STANDARD_OR,
        {"source": S("aws.cloudwatch"), "namespace": S("AWS/EC2")},
        True,
        id="or-second",
    ),
    pytest.param(STANDARD_OR, {"source": S("aws.cloudwatch")}, False, id="or-neither"),
    pytest.param(
        STANDARD_OR,
        {"metricName": S("CPUUtilization"), "namespace": S("AWS/EC2")},
        False,
        id="or-without-and-key",
    ),
    pytest.param(
        NESTED_OR,
        {"source": S("aws.cloudwatch"), "metricType": S("MetricType"), "spaceId": N("2000")},
        True,
        id="nested-or-inner",
    ),
    pytest.param(
        NESTED_OR,
        {"source": S("aws.cloudwatch"), "metricId": N("1234")},
        False,
        id="nested-or-missing-and",
    ),
    pytest.param({"$or": ["a", "b"]}, {"$or": S("a")}, True, id="or-array-of-strings-is-a-key"),
    pytest.param({}, {}, True, id="empty-policy-matches-all"),
]


@pytest.mark.parametrize(("policy", "attributes", "expected"), ATTRIBUTE_CASES)
def test_attribute_scope(
    policy: dict[str, Any], attributes: dict[str, Any], expected: bool
) -> None:
    compiled = FilterPolicy.compile(json.dumps(policy))
    assert compiled.matches_attributes(attributes) is expected
    assert compiled.matches("ignored body", attributes) is expected


NESTED = {"object": {"key": [{"prefix": "auto-"}]}}
ITEMS = {"items": {"sku": ["A"], "qty": [2]}}

BODY_CASES = [
    # Page "String value matching", message bodies
    pytest.param(RUGBY_TENNIS, {"customer_interests": "rugby"}, True, id="exact-rugby"),
    pytest.param(RUGBY_TENNIS, {"customer_interests": "tennis"}, True, id="exact-tennis"),
    pytest.param(RUGBY_TENNIS, {"customer_interests": "baseball"}, False, id="exact-miss"),
    pytest.param(RUGBY_TENNIS, {"customer_interests": ["baseball", "tennis"]}, True, id="array"),
    pytest.param(RUGBY_TENNIS, {"customer_interests": [["x", ["tennis"]]]}, True, id="deep-array"),
    pytest.param(NOT_RUGBY_TENNIS, {"customer_interests": "baseball"}, True, id="ab-hit"),
    pytest.param(
        NOT_RUGBY_TENNIS, {"customer_interests": ["rugby", "baseball"]}, False, id="ab-array-listed"
    ),
    pytest.param(NOT_RUGBY_TENNIS, {"customer_interests": None}, False, id="ab-null"),
    # Page "Key matching"
    pytest.param(
        {"store": [{"exists": True}]},
        {"store": "fans", "customer_interests": ["baseball", "basketball"]},
        True,
        id="exists-true",
    ),
    pytest.param(
        {"store": [{"exists": True}]},
        {"customer_interests": ["baseball"]},
        False,
        id="exists-true-absent",
    ),
    pytest.param({"store": [{"exists": True}]}, {"store": None}, False, id="exists-true-null"),
    pytest.param({"store": [{"exists": True}]}, {"store": ""}, False, id="exists-true-empty"),
    pytest.param({"store": [{"exists": True}]}, {"store": []}, False, id="exists-true-empty-arr"),
    pytest.param(
        {"store": [{"exists": True}]}, {"store": {"a": 1}}, False, id="exists-true-intermediate"
    ),
    pytest.param(
        {"store": [{"exists": False}]},
        {"customer_interests": ["baseball"]},
        True,
        id="exists-false",
    ),
    pytest.param(
        {"store": [{"exists": False}]}, {"store": "fans"}, False, id="exists-false-present"
    ),
    pytest.param({"a": {"b": [{"exists": False}]}}, {"x": 1}, True, id="exists-false-nested"),
    pytest.param(
        {"a": {"b": [{"exists": False}]}}, {"a": {"c": 1}}, True, id="exists-false-nested-sibling"
    ),
    pytest.param(
        {"a": {"b": [{"exists": False}]}}, {"a": {"b": 1}}, False, id="exists-false-nested-present"
    ),
    # numbers, booleans, null
    pytest.param({"price": [{"numeric": [">", 100]}]}, {"price": 150}, True, id="numeric"),
    pytest.param({"price": [{"numeric": [">", 100]}]}, {"price": "150"}, False, id="num-string"),
    pytest.param({"price": [{"numeric": [">", 0]}]}, {"price": True}, False, id="num-bool"),
    pytest.param({"n": [5]}, {"n": 5.0}, True, id="exact-number"),
    pytest.param({"n": [5]}, {"n": "5"}, False, id="exact-number-vs-string"),
    pytest.param({"n": [1]}, {"n": True}, False, id="number-vs-true"),
    pytest.param({"encrypted": [False]}, {"encrypted": False}, True, id="false"),
    pytest.param({"encrypted": [False]}, {"encrypted": 0}, False, id="false-vs-zero"),
    pytest.param({"k": [None]}, {"k": None}, True, id="null"),
    pytest.param({"k": [None]}, {"x": 1}, False, id="null-vs-absent"),
    # nested keys
    pytest.param(NESTED, {"object": {"key": "auto-1"}}, True, id="nested-hit"),
    pytest.param(NESTED, {"object": {"key": "manual"}}, False, id="nested-miss"),
    pytest.param(NESTED, {"object": "auto-1"}, False, id="nested-scalar-parent"),
    pytest.param(NESTED, {"key": "auto-1"}, False, id="nested-wrong-level"),
    pytest.param(NESTED, {"object": [{"key": "x"}, {"key": "auto-2"}]}, True, id="nested-array"),
    pytest.param(
        ITEMS,
        {"items": [{"sku": "B", "qty": 1}, {"sku": "A", "qty": 2}]},
        True,
        id="array-element-matches",
    ),
    pytest.param(
        ITEMS,
        {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]},
        False,
        id="array-fields-from-different-elements",
    ),
    # $or, page "AND/OR logic"
    pytest.param(
        STANDARD_OR, {"source": "aws.cloudwatch", "namespace": "AWS/EC2"}, True, id="or-second"
    ),
    pytest.param(STANDARD_OR, {"source": "aws.cloudwatch"}, False, id="or-neither"),
    pytest.param(
        NESTED_OR,
        {"source": "aws.cloudwatch", "metricName": "ReadLatency"},
        True,
        id="nested-or-outer",
    ),
    pytest.param(
        NESTED_OR,
        {"source": "aws.cloudwatch", "metricType": "MetricType", "spaceId": 2000},
        True,
        id="nested-or-inner",
    ),
    pytest.param(
        NESTED_OR,
        {"source": "aws.cloudwatch", "metricType": "MetricType"},
        False,
        id="nested-or-inner-missing",
    ),
    pytest.param(
        {"detail": {"scope": ["Service"], "$or": [{"source": ["s"]}, {"type": ["t"]}]}},
        {"detail": {"scope": "Service", "type": "t"}},
        True,
        id="or-inside-nested",
    ),
    pytest.param(
        {"detail": {"scope": ["Service"], "$or": [{"source": ["s"]}, {"type": ["t"]}]}},
        {"detail": {"scope": "Service"}, "type": "t"},
        False,
        id="or-inside-wrong-level",
    ),
    # bodies that are not JSON objects
    pytest.param({"k": [{"exists": False}]}, "hello", False, id="not-json"),
    pytest.param({"k": [{"exists": False}]}, [1], False, id="json-array"),
    pytest.param({"k": [{"exists": False}]}, 5, False, id="json-number"),
    pytest.param({"k": [{"exists": False}]}, {}, False, id="empty-object"),
]


@pytest.mark.parametrize(("policy", "body", "expected"), BODY_CASES)
def test_body_scope(policy: dict[str, Any], body: Any, expected: bool) -> None:
    compiled = FilterPolicy.compile(policy, scope="MessageBody")
    text = body if isinstance(body, str) else json.dumps(body)
    assert compiled.matches_body(text) is expected
    assert compiled.matches(text, {"k": S("ignored")}) is expected


def test_empty_policy_matches_every_body() -> None:
    assert FilterPolicy.compile("{}", scope="MessageBody").matches_body("not json") is True


def test_compile_keeps_scope_and_policy_and_accepts_mappings() -> None:
    text = json.dumps(EXAMPLE_ACCEPTS)
    from_text = FilterPolicy.compile(text)
    from_mapping = FilterPolicy.compile(EXAMPLE_ACCEPTS, "MessageAttributes")
    assert from_text.scope == from_mapping.scope == "MessageAttributes"
    assert from_text.policy == from_mapping.policy == EXAMPLE_ACCEPTS
    assert from_mapping.policy is not EXAMPLE_ACCEPTS
    assert FilterPolicy.compile(text, "MessageBody").scope == "MessageBody"


def test_constructor_is_not_public() -> None:
    with pytest.raises(TypeError):
        FilterPolicy()


P = "Invalid parameter: FilterPolicy: "
NUMBER_RULE = "numbers must be between -1000000000 and 1000000000"


def many(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(count)]


REJECTIONS = [
    # structure
    pytest.param(
        "{",
        "MessageAttributes",
        P + "failed to parse JSON. Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        id="bad-json",
    ),
    pytest.param(
        '{"k": [NaN]}',
        "MessageAttributes",
        P + "failed to parse JSON. NaN is not a valid JSON number",
        id="nan",
    ),
    pytest.param(
        "[1]", "MessageAttributes", P + "Filter policy must be a JSON object", id="array-policy"
    ),
    pytest.param(
        '"text"', "MessageBody", P + "Filter policy must be a JSON object", id="string-policy"
    ),
    pytest.param(
        {"key_a": "value_one"},
        "MessageBody",
        P + '"key_a" must be an object or an array',
        id="value-not-array",
    ),
    pytest.param(
        {"key": {"suffix": "value"}},
        "MessageAttributes",
        P + '"suffix" must be an object or an array',
        id="operator-without-array",
    ),
    pytest.param(
        {"key": {"not-an-operator": "value"}},
        "MessageAttributes",
        P + '"not-an-operator" must be an object or an array',
        id="object-without-array",
    ),
    pytest.param(
        {"k": []}, "MessageAttributes", P + "Empty arrays are not allowed", id="empty-array"
    ),
    pytest.param(
        {"a": {"b": []}}, "MessageBody", P + "Empty arrays are not allowed", id="empty-nested-array"
    ),
    pytest.param(
        {"key": [["value"]]},
        "MessageAttributes",
        P + "Match value must be String, number, true, false, or null",
        id="nested-list",
    ),
    pytest.param(
        {"object": {"key": [{"prefix": "auto-"}]}},
        "MessageAttributes",
        "Invalid parameter: Filter policy scope MessageAttributes does not support "
        "nested filter policy",
        id="nested-in-attribute-scope",
    ),
    pytest.param(
        {"$or": [{"a": {"b": ["c"]}}, {"d": ["e"]}]},
        "MessageAttributes",
        "Invalid parameter: Filter policy scope MessageAttributes does not support "
        "nested filter policy",
        id="nested-in-or-attribute-scope",
    ),
    # match expressions
    pytest.param(
        {"key": [{"wrong-operator": True}]},
        "MessageAttributes",
        P + "Unrecognized match type wrong-operator",
        id="unknown-operator",
    ),
    pytest.param(
        {"key": [{"suffix": "value", "prefix": "value2"}]},
        "MessageAttributes",
        P + "Only one key allowed in match expression",
        id="two-operators",
    ),
    pytest.param(
        {"key": [{}]},
        "MessageAttributes",
        P + "Empty objects are not allowed in match expressions",
        id="empty-expression",
    ),
    pytest.param(
        {"$or": [{"k": ["v"]}]},
        "MessageAttributes",
        P + "Unrecognized match type k",
        id="or-with-one-object-is-a-key",
    ),
    pytest.param(
        {"$or": [{"numeric": 123}, {"prefix": "abc"}]},
        "MessageAttributes",
        P + "Value of numeric must be an array.",
        id="or-with-reserved-keywords",
    ),
    pytest.param(
        {"key": [{"suffix": 100}]},
        "MessageAttributes",
        P + "suffix match pattern must be a string",
        id="suffix-number",
    ),
    pytest.param(
        {"key": [{"suffix": None}]},
        "MessageAttributes",
        P + "suffix match pattern must be a string",
        id="suffix-null",
    ),
    pytest.param(
        {"key": [{"suffix": []}]},
        "MessageAttributes",
        P + "suffix match pattern must be a string",
        id="suffix-list",
    ),
    pytest.param(
        {"key": [{"prefix": 5}]},
        "MessageBody",
        P + "prefix match pattern must be a string",
        id="prefix-number",
    ),
    pytest.param(
        {"key": [{"equals-ignore-case": None}]},
        "MessageAttributes",
        P + "equals-ignore-case match pattern must be a string",
        id="eic-null",
    ),
    pytest.param(
        {"key": [{"wildcard": 1}]},
        "MessageAttributes",
        P + "wildcard match pattern must be a string",
        id="wildcard-number",
    ),
    pytest.param(
        {"key": [{"wildcard": "a**b"}]},
        "MessageAttributes",
        P + "Consecutive wildcard characters at pos 2",
        id="wildcard-double-star",
    ),
    pytest.param(
        {"key": [{"exists": None}]},
        "MessageAttributes",
        P + "exists match pattern must be either true or false.",
        id="exists-null",
    ),
    pytest.param(
        {"key": [{"exists": "no"}]},
        "MessageAttributes",
        P + "exists match pattern must be either true or false.",
        id="exists-string",
    ),
    # anything-but
    pytest.param(
        {"key": [{"anything-but": {"wrong-operator": None}}]},
        "MessageAttributes",
        P + "Unsupported anything-but pattern: wrong-operator",
        id="ab-unknown",
    ),
    pytest.param(
        {"key": [{"anything-but": {"exists": False}}]},
        "MessageAttributes",
        P + "Unsupported anything-but pattern: exists",
        id="ab-exists",
    ),
    pytest.param(
        {"key": [{"anything-but": {"prefix": False}}]},
        "MessageAttributes",
        P + "prefix match pattern must be a string",
        id="ab-prefix-bool",
    ),
    pytest.param(
        {"key": [{"anything-but": {"prefix": "a", "suffix": "b"}}]},
        "MessageBody",
        P + "Only one key allowed in match expression",
        id="ab-two-operators",
    ),
    pytest.param(
        {"key": [{"anything-but": []}]},
        "MessageAttributes",
        P + "Empty arrays are not allowed",
        id="ab-empty",
    ),
    pytest.param(
        {"key": [{"anything-but": True}]},
        "MessageAttributes",
        P + "Value of anything-but must be an array or single string/number value, got true",
        id="ab-bool",
    ),
    pytest.param(
        {"key": [{"anything-but": ["a", ["b"]]}]},
        "MessageAttributes",
        P + 'Value of anything-but must be an array or single string/number value, got ["b"]',
        id="ab-nested-list",
    ),
    # numeric (messages as AWS returns them)
    pytest.param(
        {"key": [{"numeric": 5}]},
        "MessageAttributes",
        P + "Value of numeric must be an array.",
        id="numeric-not-array",
    ),
    pytest.param(
        {"key": [{"numeric": []}]},
        "MessageAttributes",
        P + "Invalid member in numeric match: ]",
        id="numeric-empty",
    ),
    pytest.param(
        {"key": [{"numeric": ["operator"]}]},
        "MessageAttributes",
        P + "Unrecognized numeric range operator: operator",
        id="numeric-bad-operator",
    ),
    pytest.param(
        {"key": [{"numeric": [1, "<="]}]},
        "MessageAttributes",
        P + "Invalid member in numeric match: 1",
        id="numeric-operator-order",
    ),
    pytest.param(
        {"key": [{"numeric": ["=", "000"]}]},
        "MessageAttributes",
        P + "Value of equals must be numeric",
        id="numeric-string-value",
    ),
    pytest.param(
        {"key": [{"numeric": [">=", True]}]},
        "MessageAttributes",
        P + "Value of >= must be numeric",
        id="numeric-bool-value",
    ),
    pytest.param(
        {"key": [{"numeric": [">="]}]},
        "MessageAttributes",
        P + "Value of >= must be numeric",
        id="numeric-missing-value",
    ),
    pytest.param(
        {"key": [{"numeric": ["<", 100, ">", 10]}]},
        "MessageAttributes",
        P + "Too many elements in numeric expression",
        id="numeric-range-order",
    ),
    pytest.param(
        {"key": [{"numeric": ["=", 1, "<", 10]}]},
        "MessageAttributes",
        P + "Too many elements in numeric expression",
        id="numeric-equals-range",
    ),
    pytest.param(
        {"key": [{"numeric": [">=", 1, ">", 2]}]},
        "MessageAttributes",
        P + "Bad numeric range operator: >",
        id="numeric-two-lower",
    ),
    pytest.param(
        {"key": [{"numeric": [">", 3, "<", 1]}]},
        "MessageAttributes",
        P + "Bottom must be less than top",
        id="numeric-bottom-above-top",
    ),
    pytest.param(
        {"key": [{"numeric": [">", 3, "<", 3]}]},
        "MessageAttributes",
        P + "Bottom must be less than top",
        id="numeric-bottom-equals-top",
    ),
    pytest.param(
        {"key": [{"numeric": [">", 20, "<="]}]},
        "MessageAttributes",
        P + "Value of <= must be numeric",
        id="numeric-missing-top",
    ),
    pytest.param(
        {"key": [{"numeric": [">", 20, 30]}]},
        "MessageAttributes",
        P + "Bad value in numeric range: 30",
        id="numeric-missing-second-operator",
    ),
    pytest.param(
        {"key": [{"numeric": [">", 20, "test"]}]},
        "MessageAttributes",
        P + "Bad numeric range operator: test",
        id="numeric-bad-second-operator",
    ),
    pytest.param(
        {"key": [{"numeric": [">", "20", "<", "30"]}]},
        "MessageAttributes",
        P + "Value of > must be numeric",
        id="numeric-string-bottom",
    ),
    pytest.param(
        {"key": [{"numeric": [">", 20, "<", "30"]}]},
        "MessageAttributes",
        P + "Value of < must be numeric",
        id="numeric-string-top",
    ),
    pytest.param(
        {"key": [{"numeric": [">", 20, "<", 30, "<", 50]}]},
        "MessageAttributes",
        P + "Too many terms in numeric range expression",
        id="numeric-too-many-terms",
    ),
    # number range (page "Filter policy constraints"); more digits are accepted (see
    # test_attribute_scope's num-digits-* cases)
    pytest.param(
        {"k": [1e10]},
        "MessageAttributes",
        P + f"Numeric value 10000000000.0 is not allowed: {NUMBER_RULE}",
        id="num-big",
    ),
    pytest.param(
        {"k": [-1000000001]},
        "MessageAttributes",
        P + f"Numeric value -1000000001 is not allowed: {NUMBER_RULE}",
        id="num-small",
    ),
    pytest.param(
        {"k": [{"numeric": [">", 2000000000]}]},
        "MessageAttributes",
        P + f"Numeric value 2000000000 is not allowed: {NUMBER_RULE}",
        id="num-operand",
    ),
    pytest.param(
        '{"k": [1e400]}',
        "MessageAttributes",
        P + f"Numeric value Infinity is not allowed: {NUMBER_RULE}",
        id="num-infinity",
    ),
    pytest.param(
        '{"k": [' + "9" * 30 + "]}",
        "MessageBody",
        P + f"Numeric value {'9' * 30} is not allowed: {NUMBER_RULE}",
        id="num-huge-integer",
    ),
    pytest.param(
        {"k": [float("nan")]},
        "MessageAttributes",
        P + "failed to parse JSON. NaN is not a valid JSON number",
        id="num-nan-in-mapping",
    ),
    # cidr
    pytest.param(
        {"ip": [{"cidr": 5}]},
        "MessageAttributes",
        P + "cidr match pattern must be a string",
        id="cidr-number",
    ),
    pytest.param(
        {"ip": [{"cidr": "10.0.0.0"}]},
        "MessageAttributes",
        P + "Malformed CIDR, one '/' required",
        id="cidr-no-slash",
    ),
    pytest.param(
        {"ip": [{"cidr": "10.0.0.0/24/8"}]},
        "MessageAttributes",
        P + "Malformed CIDR, one '/' required",
        id="cidr-two-slashes",
    ),
    pytest.param(
        {"ip": [{"cidr": "10.0.0.0/a"}]},
        "MessageAttributes",
        P + "Malformed CIDR, mask bits must be an integer",
        id="cidr-mask",
    ),
    pytest.param(
        {"ip": [{"cidr": "10.0.0.300/24"}]},
        "MessageAttributes",
        P + "Nonstandard IP address: 10.0.0.300",
        id="cidr-address",
    ),
    pytest.param(
        {"ip": [{"cidr": "10.0.0.0/33"}]},
        "MessageAttributes",
        P + "Nonstandard IP address: 10.0.0.0",
        id="cidr-mask-too-long",
    ),
    # limits: keys
    pytest.param(
        {f"key{i}": ["v"] for i in range(6)},
        "MessageAttributes",
        P + "Filter policy can not have more than 5 keys",
        id="six-keys-attributes",
    ),
    pytest.param(
        {f"key{i}": ["v"] for i in range(6)},
        "MessageBody",
        P + "Filter policy can not have more than 5 keys",
        id="six-keys-body",
    ),
    pytest.param(
        {
            "a": ["1"],
            "b": ["1"],
            "c": ["1"],
            "$or": [{"d": ["1"], "e": ["1"], "f": ["1"]}, {"g": ["1"]}],
        },
        "MessageAttributes",
        P + "Filter policy can not have more than 5 keys",
        id="six-keys-in-an-or-alternative",
    ),
    # limits: combinations
    pytest.param(
        {"key": many("value", 151)},
        "MessageAttributes",
        P + "Filter policy is too complex",
        id="151-values",
    ),
    pytest.param(
        {"key1": many("v", 100), "key2": many("v", 51)},
        "MessageAttributes",
        P + "Filter policy is too complex",
        id="100-and-51-values",
    ),
    pytest.param(
        {  # (4 x 6) + (4 x 4 x 4) + (4 x 4 x 4) = 152
            "source": many("s", 4),
            "$or": [
                {"metricName": many("m", 6)},
                {
                    "metricType": many("t", 4),
                    "$or": [{"metricId": [1, 2, 3, 4]}, {"spaceId": [5, 6, 7, 8]}],
                },
            ],
        },
        "MessageAttributes",
        P + "Filter policy is too complex",
        id="or-152",
    ),
    pytest.param(
        {  # nested keys count values x depth: 24 + 72 + 16 + 48 = 160
            "$or": [{"metricName": many("m", 3)}, {"namespace": many("n", 2)}],
            "detail": {
                "scope": many("s", 2),
                "$or": [{"source": ["aws.cloudwatch"]}, {"type": many("t", 3)}],
            },
        },
        "MessageBody",
        P + "Filter policy is too complex",
        id="nested-or-160",
    ),
    pytest.param(
        {  # (4 x 3) x (3 x 2) x (3 x 1) = 216
            "key_a": {"key_b": {"key_c": many("v", 4)}},
            "key_d": {"key_e": many("v", 3)},
            "key_f": many("v", 3),
        },
        "MessageBody",
        P + "Filter policy is too complex",
        id="nested-216",
    ),
    # size
    pytest.param(
        '{"k":["' + "x" * (MAX_POLICY_BYTES - 9) + '"]}',
        "MessageAttributes",
        P + f"Filter policy is too large: {MAX_POLICY_BYTES + 1} bytes, the maximum is "
        f"{MAX_POLICY_BYTES}",
        id="over-256-kib",
    ),
    pytest.param(
        '{"k":["' + "é" * (MAX_POLICY_BYTES // 2) + '"]}',
        "MessageAttributes",
        P + f"Filter policy is too large: {MAX_POLICY_BYTES + 10} bytes, the maximum is "
        f"{MAX_POLICY_BYTES}",
        id="size-counts-utf8-bytes",
    ),
    # scope
    pytest.param(
        {"k": ["v"]},
        "RandomValue",
        "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. "
        "Please use either MessageBody or MessageAttributes",
        id="unknown-scope",
    ),
    pytest.param(
        {"k": ["v"]},
        "messagebody",
        "Invalid parameter: FilterPolicyScope: Invalid value [messagebody]. "
        "Please use either MessageBody or MessageAttributes",
        id="scope-case",
    ),
]


@pytest.mark.parametrize(("policy", "scope", "message"), REJECTIONS)
def test_rejected_at_compile_time(policy: Any, scope: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        FilterPolicy.compile(policy, scope)
    assert type(caught.value) is InvalidParameter
    assert caught.value.code == "InvalidParameter"
    assert caught.value.message == message


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(object(), id="not-a-mapping"),
        pytest.param({"k": [{1, 2}]}, id="unserializable-value"),
        pytest.param({"k": ["\ud800"]}, id="lone-surrogate"),
    ],
)
def test_rejects_python_objects_that_are_not_json(policy: Any) -> None:
    with pytest.raises(InvalidParameter) as caught:
        FilterPolicy.compile(policy)
    assert caught.value.code == "InvalidParameter"
    assert caught.value.message.startswith(P)


ACCEPTED = [
    pytest.param({"key": many("value", 150)}, "MessageAttributes", id="150-values"),
    pytest.param(
        {  # (3 x 6) + (3 x 4 x 4) + (3 x 4 x 7) = 150
            "source": many("s", 3),
            "$or": [
                {"metricName": many("m", 6)},
                {
                    "metricType": many("t", 4),
                    "$or": [{"metricId": [1, 2, 3, 4]}, {"spaceId": [1, 2, 3, 4, 5, 6, 7]}],
                },
            ],
        },
        "MessageAttributes",
        id="or-150",
    ),
    pytest.param(
        {  # page "Filter policy constraints": 3 x 4 x 2 x 3 = 72
            "key_a": {"key_b": {"key_c": many("v", 4)}},
            "key_d": {"key_e": many("v", 3)},
        },
        "MessageBody",
        id="nested-72",
    ),
    pytest.param({f"key{i}": ["v"] for i in range(5)}, "MessageAttributes", id="five-keys"),
    pytest.param(
        {"a": {"x": ["1"], "y": ["1"], "z": ["1"]}, "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"]},
        "MessageBody",
        id="five-top-level-keys-seven-leaves",
    ),
    pytest.param(
        {"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "$or": [{"e": ["1"]}, {"f": ["1"]}]},
        "MessageAttributes",
        id="five-keys-per-or-alternative",
    ),
    pytest.param({"k": [1e9, -1e9, 0.00001, 123.45678]}, "MessageAttributes", id="number-limits"),
    pytest.param(
        '{"k":["' + "x" * (MAX_POLICY_BYTES - 10) + '"]}', "MessageAttributes", id="exactly-256-kib"
    ),
    pytest.param({"ip": [{"cidr": "10.0.0.1/24"}]}, "MessageAttributes", id="cidr-host-bits"),
    pytest.param({"$or": [{}, {}]}, "MessageAttributes", id="or-of-empty-objects"),
]


@pytest.mark.parametrize(("policy", "scope"), ACCEPTED)
def test_accepted_at_the_limits(policy: Any, scope: str) -> None:
    compiled = FilterPolicy.compile(policy, scope)
    assert compiled.scope == scope
    assert compiled.policy == (json.loads(policy) if isinstance(policy, str) else policy)


def test_cidr_with_host_bits_matches_its_network() -> None:
    compiled = FilterPolicy.compile({"ip": [{"cidr": "10.0.0.1/24"}]})
    assert compiled.matches_attributes({"ip": S("10.0.0.200")}) is True
    assert compiled.matches_attributes({"ip": S("10.0.1.1")}) is False
