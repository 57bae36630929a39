"""SNS subscription filter policies: validated and compiled once, matched per message.

A filter policy maps property names to arrays of match conditions. Keys are ANDed, the array under
a key is ORed, and ``"$or"`` combines alternative sub-policies. ``compile`` parses and validates the
policy once and builds closures, so matching a message never looks at the policy JSON again.

Rules mirror the Amazon SNS Developer Guide, pages "Amazon SNS message filtering", "Amazon SNS
subscription filter policies", "Filter policy constraints", "String value matching", "Numeric
value matching", "Key matching", "AND/OR logic" and "Subscription filter policy scope"
(https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html). Error messages follow
the text AWS returns for ``SetSubscriptionAttributes`` (``Invalid parameter: FilterPolicy: ...``).

Two limits are counted as AWS's own examples count them (page "Filter policy constraints"):

* *combinations* (at most 150): the product, over the arrays of a policy, of the number of
  values in each array times the nesting depth of its key (1 at the top level); the alternatives
  of a ``"$or"`` add up (``{"a": [1, 2], "$or": [{"b": [1]}, {"c": [1, 2]}]}`` counts
  2 x 1 + 2 x 2 = 6; a ``MessageBody`` key two levels deep with 3 values counts 3 x 2).
* *keys* (at most 5): the top-level keys of each alternative the ``"$or"`` operators produce.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from operator import eq, ge, gt, le, lt
from typing import Any, Final, TypeGuard

from ..errors import InvalidParameter
from ..message import dumps_json, loads_json

__all__ = [
    "FilterPolicy",
    "PreparedAttributes",
    "SCOPES",
    "MAX_KEYS",
    "MAX_COMBINATIONS",
    "MAX_POLICY_BYTES",
]

#: The values of the ``FilterPolicyScope`` subscription attribute.
SCOPES: Final = ("MessageAttributes", "MessageBody")
#: Keys per policy (per ``$or`` alternative, top-level keys only).
MAX_KEYS: Final = 5
#: Total combinations per policy (see the module docstring for the count).
MAX_COMBINATIONS: Final = 150
#: Size of the policy JSON, in bytes of UTF-8 (256 KB).
MAX_POLICY_BYTES: Final = 256 * 1024
#: Numbers in a policy lie in [-10^9, 10^9] (page "Filter policy constraints").
_NUMBER_BOUND: Final = 1_000_000_000
#: Numbers compare to this many digits after the decimal point, the rest cut off. The page
#: gives "five digits of accuracy after the decimal point", which bounds what a policy can
#: tell apart, not what it may hold: a policy number with more digits is accepted (moto
#: accepts it, and notes that SNS in fact tells six digits apart, which six also satisfies).
_DECIMALS: Final = 6
_SCALE: Final = 10**_DECIMALS

_STRING_OPERATORS: Final = frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"})
_OPERATORS: Final = _STRING_OPERATORS | {"anything-but", "numeric", "exists", "cidr"}
# "String value matching": anything-but nests prefix; suffix and wildcard per SEMANTICS.md.
_ANYTHING_BUT_OPERATORS: Final = frozenset({"prefix", "suffix", "wildcard"})
_LOWER_OPS: Final = frozenset({">", ">="})
_UPPER_OPS: Final = frozenset({"<", "<="})
_COMPARE: Final = {"=": eq, "<": lt, "<=": le, ">": gt, ">=": ge}
# A Number attribute value as SNS accepts it (float() alone would take "nan", "1_0", "inf").
_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")

_Value = Any  # a JSON scalar: str, int, float, bool or None
_Pred = Callable[[_Value], bool]
_LeafFn = Callable[[bool, Sequence[_Value]], bool]
_Attributes = Mapping[str, tuple[str, str]]


def _invalid(detail: str) -> InvalidParameter:
    return InvalidParameter(f"Invalid parameter: FilterPolicy: {detail}")


def _is_number(value: object) -> TypeGuard[int | float]:
    return type(value) is int or type(value) is float


def _show(value: object) -> str:
    """The JSON text of a policy value, as AWS quotes it in error messages."""
    return value if isinstance(value, str) else json.dumps(value)


def _check_number(value: int | float) -> int:
    """Return the compared form (:func:`_key`) of a policy number, or raise if it is out of
    range (page "Filter policy constraints": from -10^9 to 10^9; NaN and infinities fail too).
    """
    return _key(_in_range(value))


def _in_range(value: int | float) -> float:
    if not -_NUMBER_BOUND <= value <= _NUMBER_BOUND:
        raise _invalid(
            f"Numeric value {_show(value)} is not allowed: numbers must be between "
            f"-{_NUMBER_BOUND} and {_NUMBER_BOUND}"
        )
    return float(value)


_FAR: Final = 2**80  # beyond any policy number's key


def _key(value: int | float) -> int:
    """A number as exact matching compares it: in millionths, the digits beyond cut off
    (towards zero), so ``100.123456789`` and ``100.1234567`` are equal. The cut is made on the
    number's shortest decimal text, not on its binary value (``1.000001`` is 1000001
    millionths although the float lies just below). Infinities and NaN (a message value such
    as ``1e999``) get keys no policy number has."""
    if isinstance(value, int):
        return int(value) * _SCALE  # bool never reaches here (callers test the type)
    if value.is_integer():
        return int(value) * _SCALE
    if value != value:
        return _FAR + 1
    if value in (_INF, -_INF):
        return _FAR if value > 0 else -_FAR
    near = round(value * _SCALE)
    if near / _SCALE == value:  # at most six decimals (the usual case): no Decimal needed
        return near
    return int(Decimal(repr(value)).scaleb(_DECIMALS).to_integral_value(ROUND_DOWN))


_INF: Final = float("inf")


# --- leaf conditions -------------------------------------------------------------------------


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    """Compile a ``wildcard`` pattern: ``*`` is any run of characters, ``\\*`` a literal star."""
    parts: list[str] = []
    i, previous_star = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            parts.append(re.escape(pattern[i + 1]))
            i, previous_star = i + 2, False
            continue
        if char == "*":
            if previous_star:
                raise _invalid(f"Consecutive wildcard characters at pos {i}")
            parts.append(".*")
            previous_star = True
        else:
            parts.append(re.escape(char))
            previous_star = False
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _string_predicate(operator: str, pattern: object) -> _Pred:
    if not isinstance(pattern, str):
        raise _invalid(f"{operator} match pattern must be a string")
    if operator == "prefix":
        return lambda v: type(v) is str and v.startswith(pattern)
    if operator == "suffix":
        return lambda v: type(v) is str and v.endswith(pattern)
    if operator == "equals-ignore-case":
        folded = pattern.lower()
        return lambda v: type(v) is str and v.lower() == folded
    matcher = _wildcard_regex(pattern).fullmatch
    return lambda v: type(v) is str and matcher(v) is not None


def _numeric_predicate(spec: object) -> _Pred:
    """``{"numeric": ["=", 5]}`` or ``[">", 0, "<=", 5]``: at most one lower and one upper bound.

    Messages mirror the ones AWS returns for each malformed form.
    """
    if not isinstance(spec, list):
        raise _invalid("Value of numeric must be an array.")
    if not spec:
        raise _invalid("Invalid member in numeric match: ]")
    first = spec[0]
    if not isinstance(first, str):
        raise _invalid(f"Invalid member in numeric match: {_show(first)}")
    if first not in _COMPARE:
        raise _invalid(f"Unrecognized numeric range operator: {first}")
    checks = [(first, _numeric_operand(first, spec, 1))]
    if len(spec) > 2:
        if first not in _LOWER_OPS:
            raise _invalid("Too many elements in numeric expression")
        second = spec[2]
        if not isinstance(second, str):
            raise _invalid(f"Bad value in numeric range: {_show(second)}")
        if second not in _UPPER_OPS:
            raise _invalid(f"Bad numeric range operator: {second}")
        top = _numeric_operand(second, spec, 3)
        if top <= checks[0][1]:
            raise _invalid("Bottom must be less than top")
        if len(spec) > 4:
            raise _invalid("Too many terms in numeric range expression")
        checks.append((second, top))
    if first == "=":  # equality compares as exact matching does (_key)
        key = _key(checks[0][1])

        def numeric_equals(v: _Value) -> bool:
            kind = type(v)
            return (kind is int or kind is float) and _key(v) == key

        return numeric_equals
    bounds = tuple((_COMPARE[op], bound) for op, bound in checks)

    if len(bounds) == 1:
        ((compare0, bound0),) = bounds

        def numeric_one(v: _Value) -> bool:
            kind = type(v)
            return (kind is int or kind is float) and compare0(v, bound0)

        return numeric_one
    (compare1, bound1), (compare2, bound2) = bounds

    def numeric_range(v: _Value) -> bool:
        kind = type(v)
        return (kind is int or kind is float) and compare1(v, bound1) and compare2(v, bound2)

    return numeric_range


def _numeric_operand(op: str, spec: list[Any], index: int) -> float:
    value = spec[index] if index < len(spec) else None
    if not _is_number(value):
        raise _invalid(f"Value of {'equals' if op == '=' else op} must be numeric")
    return _in_range(value)


def _cidr_predicate(spec: object) -> _Pred:
    """``{"cidr": "10.0.0.0/24"}`` (IPv4 or IPv6): matches string values inside the network."""
    if not isinstance(spec, str):
        raise _invalid("cidr match pattern must be a string")
    address, slash, mask = spec.partition("/")
    if not slash or "/" in mask:
        raise _invalid("Malformed CIDR, one '/' required")
    if not mask.isdigit():
        raise _invalid("Malformed CIDR, mask bits must be an integer")
    import ipaddress  # here: only a cidr policy needs it

    try:
        network = ipaddress.ip_network(spec, strict=False)
    except ValueError:
        raise _invalid(f"Nonstandard IP address: {address}") from None

    def cidr(v: _Value) -> bool:
        if type(v) is not str:
            return False
        try:
            return ipaddress.ip_address(v) in network
        except ValueError:  # not an IP address: no match
            return False

    return cidr


def _anything_but_predicate(spec: object) -> _Pred:
    """Return the predicate of the *excluded* values of an ``anything-but`` condition."""
    if isinstance(spec, Mapping):
        if len(spec) != 1:
            raise _invalid("Only one key allowed in match expression")
        ((operator, pattern),) = spec.items()
        if operator not in _ANYTHING_BUT_OPERATORS:
            raise _invalid(f"Unsupported anything-but pattern: {operator}")
        return _string_predicate(operator, pattern)
    values = spec if isinstance(spec, list) else [spec]
    if not values:
        raise _invalid("Empty arrays are not allowed")
    strings: set[str] = set()
    numbers: set[int] = set()  # keys (_key)
    for value in values:
        if isinstance(value, str):
            strings.add(value)
        elif _is_number(value):
            numbers.add(_check_number(value))
        else:
            raise _invalid(
                "Value of anything-but must be an array or single string/number value, "
                f"got {_show(value)}"
            )
    return lambda v: v in strings if type(v) is str else _is_number(v) and _key(v) in numbers


# How an attribute-scope match runs a leaf without calling it (see _compile_attributes):
_GENERIC: Final = 0  # arg: the leaf function, called as leaf(present, values)
_IN: Final = 1  # arg: a frozenset of strings; some value must be in it
_ANY: Final = 2  # arg: a predicate; some value must satisfy it
_EXISTS: Final = 3  # arg: None; some value must be non-null and non-empty
_Leaf = tuple[_LeafFn, int, Any]  # (leaf function, fast kind, its arg)


def _compile_leaf(rules: list[Any]) -> _Leaf:
    """Compile the array of conditions under one key (ORed) into ``leaf(present, values)``,
    plus the leaf's fast kind (one of ``_GENERIC``, ``_IN``, ``_ANY``, ``_EXISTS``) and its arg.

    ``present`` says whether the key is in the message; ``values`` are its scalar values (one
    for a String or Number attribute, the elements of a String.Array or JSON array).
    A positive condition matches when any value satisfies it; ``anything-but`` matches when at
    least one non-null value exists and none is excluded (page "String value matching": for
    arrays, none of the elements may be listed); ``exists`` tests presence (page "Key
    matching": true needs a non-null, non-empty value).
    """
    strings: set[str] = set()
    numbers: set[int] = set()  # keys (_key)
    literals: list[bool | None] = []  # true, false, null: compared by identity
    predicates: list[_Pred] = []
    exclusions: list[_Pred] = []
    exists_true = exists_false = False
    for rule in rules:
        if isinstance(rule, str):
            strings.add(rule)
        elif rule is None or isinstance(rule, bool):
            literals.append(rule)
        elif _is_number(rule):
            numbers.add(_check_number(rule))
        elif isinstance(rule, Mapping):
            if len(rule) != 1:
                raise _invalid(
                    "Only one key allowed in match expression"
                    if rule
                    else "Empty objects are not allowed in match expressions"
                )
            ((operator, spec),) = rule.items()
            if operator == "exists":
                if not isinstance(spec, bool):
                    raise _invalid("exists match pattern must be either true or false.")
                exists_true, exists_false = exists_true or spec, exists_false or not spec
            elif operator == "anything-but":
                exclusions.append(_anything_but_predicate(spec))
            elif operator in _STRING_OPERATORS:
                predicates.append(_string_predicate(operator, spec))
            elif operator == "numeric":
                predicates.append(_numeric_predicate(spec))
            elif operator == "cidr":
                predicates.append(_cidr_predicate(spec))
            else:
                raise _invalid(f"Unrecognized match type {operator}")
        else:
            raise _invalid("Match value must be String, number, true, false, or null")
    only_strings: frozenset[str] | None = None
    if strings and not numbers and not literals:
        # Only strings: set membership is exact and type-strict (no number equals a str).
        only_strings = frozenset(strings)
        predicates.insert(0, only_strings.__contains__)
    elif strings or numbers or literals:
        predicates.insert(0, _exact_predicate(frozenset(strings), frozenset(numbers), literals))
    preds, excl = tuple(predicates), tuple(exclusions)
    if not excl and not exists_false:
        # The common shapes get a leaner function: the policy is compiled once, run per message.
        if not preds and exists_true:
            def exists_leaf(present: bool, values: Sequence[_Value]) -> bool:
                return present and any(v is not None and v != "" for v in values)

            return exists_leaf, _EXISTS, None
        if len(preds) == 1 and not exists_true:
            only = preds[0]

            def single_leaf(present: bool, values: Sequence[_Value]) -> bool:
                if present:
                    for v in values:
                        if only(v):
                            return True
                return False

            # An absent key has no values, so "some value passes" covers ``present`` too.
            if only_strings is not None:
                return single_leaf, _IN, only_strings
            return single_leaf, _ANY, only

    def leaf(present: bool, values: Sequence[_Value]) -> bool:
        if not present:
            return exists_false
        if exists_true and any(v is not None and v != "" for v in values):
            return True
        for pred in preds:
            for v in values:
                if pred(v):
                    return True
        for excluded in excl:
            candidates = [v for v in values if v is not None]
            if candidates and not any(excluded(v) for v in candidates):
                return True
        return False

    return leaf, _GENERIC, leaf


def _exact_predicate(
    strings: frozenset[str], numbers: frozenset[int], literals: list[bool | None]
) -> _Pred:
    """Exact matching: strings case-sensitively, numbers by :func:`_key`, true/false/null by
    kind."""
    has_true, has_false, has_null = True in literals, False in literals, None in literals

    def exact(v: _Value) -> bool:
        kind = type(v)
        if kind is str:
            return v in strings
        if kind is bool:
            return has_true if v else has_false
        if v is None:
            return has_null
        return (kind is int or kind is float) and _key(v) in numbers

    return exact


# --- policy tree -----------------------------------------------------------------------------


class _Node:
    """One JSON object of the policy: leaf keys, nested keys and ``$or`` groups (all ANDed)."""

    __slots__ = ("leaves", "children", "ors")

    def __init__(self) -> None:
        self.leaves: list[tuple[str, int, _Leaf]] = []  # key, number of values, matcher
        self.children: list[tuple[str, _Node]] = []
        self.ors: list[list[_Node]] = []


def _is_or(value: object) -> bool:
    """Page "AND/OR logic": ``$or`` is an operator only when followed by an array of at least
    two objects none of whose field names is a reserved keyword; else it is a plain key."""
    return (
        isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(alt, Mapping) and _OPERATORS.isdisjoint(alt) for alt in value)
    )


def _parse(obj: Mapping[str, Any], depth: int = 1) -> _Node:
    """Validate one policy object and compile its leaves; O(size of the object).

    A key at depth d counts d combinations per value, so no policy within
    :data:`MAX_COMBINATIONS` nests deeper than that: a deeper one is refused here, before the
    recursion (here and when matching) grows with it.
    """
    if depth > MAX_COMBINATIONS:
        raise _invalid("Filter policy is too complex")
    node = _Node()
    for key, value in obj.items():
        if key == "$or" and _is_or(value):
            node.ors.append([_parse(alt, depth) for alt in value])
        elif isinstance(value, list):
            if not value:
                raise _invalid("Empty arrays are not allowed")
            node.leaves.append((key, len(value), _compile_leaf(value)))
        elif isinstance(value, Mapping):
            node.children.append((key, _parse(value, depth + 1)))
        else:
            raise _invalid(f'"{key}" must be an object or an array')
    return node


def _is_nested(node: _Node) -> bool:
    return bool(node.children) or any(_is_nested(alt) for alts in node.ors for alt in alts)


def _combinations(node: _Node, depth: int = 1) -> int:
    """Count combinations (see the module docstring), capped just past the limit."""
    cap = MAX_COMBINATIONS + 1
    total = 1
    for _key, count, _leaf in node.leaves:
        total = min(cap, total * count * depth)
    for _key, child in node.children:
        total = min(cap, total * _combinations(child, depth + 1))
    for alts in node.ors:
        total = min(cap, total * sum(_combinations(alt, depth) for alt in alts))
    return total


def _key_sets(node: _Node) -> list[frozenset[str]]:
    """The top-level keys of every alternative the ``$or`` groups of ``node`` expand to.

    Called after the combination check, which bounds the number of alternatives by 150.
    """
    base = frozenset([key for key, _n, _leaf in node.leaves] + [k for k, _c in node.children])
    sets = [base]
    for alts in node.ors:
        sets = [s | t for s in sets for alt in alts for t in _key_sets(alt)]
    return sets


# --- matching --------------------------------------------------------------------------------


def _attribute_values(attributes: _Attributes, name: str) -> tuple[bool, list[_Value]]:
    """``(present, values)`` of a message attribute; Binary attributes count as absent.

    Custom types (``String.x``, ``Number.x``) compare as their base type; a String.Array value
    is parsed from its JSON text and its scalar elements (string, number, boolean, null) kept.
    """
    item = attributes.get(name)
    if item is None:
        return False, []
    return _item_values(item)


def _item_values(item: tuple[str, str]) -> tuple[bool, list[_Value]]:
    data_type, text = item
    if data_type == "String":
        return True, [text]
    if data_type == "String.Array":
        try:
            elements = loads_json(text)
        except ValueError:
            return True, []
        if isinstance(elements, list):
            return True, [e for e in elements if not isinstance(e, (list, dict))]
        # Not an array (SNS takes any text): a JSON scalar is one value, as moto reads it.
        return True, [] if isinstance(elements, dict) else [elements]
    base = data_type.partition(".")[0]
    if base == "String":
        return True, [text]
    if base == "Number":
        if _NUMBER_TEXT.fullmatch(text.strip()):
            return True, [float(text)]
        return True, []
    return False, []


def _has_attributes(attributes: _Attributes) -> bool:
    return any(not data_type.startswith("Binary") for data_type, _text in attributes.values())


_ABSENT: Final[tuple[bool, list[_Value], bool]] = (False, [], False)
#: What ``PreparedAttributes.one`` gives for a key it lacks: no leaf condition accepts it
#: (each one tests the value's type or looks it up among strings or numbers).
_MISSING: Final = object()


class PreparedAttributes:
    """One message's attributes, each parsed once however many policies test it.

    A topic with many filtered subscriptions prepares a message's attributes once per publish
    and passes the result to every policy: a String.Array or Number value is then parsed once,
    not once per policy.
    """

    __slots__ = ("raw", "filterable", "one", "nonempty", "multi", "_parsed")

    def __init__(self, attributes: _Attributes) -> None:
        self.raw = attributes
        # name -> (present, values, some value is non-null and non-empty)
        parsed: dict[str, tuple[bool, list[_Value], bool]] = {}
        #: name -> the value, for attributes with exactly one (most of them).
        one: dict[str, _Value] = {}
        #: names with a non-null, non-empty value (what ``"exists": true`` asks).
        nonempty: set[str] = set()
        multi = False
        for name, item in attributes.items():
            present, values = _item_values(item)
            exists = False
            if present:
                for v in values:
                    if v is not None and v != "":
                        exists = True
                        nonempty.add(name)
                        break
                if len(values) == 1:
                    one[name] = values[0]
                elif values:
                    multi = True
            parsed[name] = (present, values, exists)
        self.filterable = _has_attributes(attributes)
        self.one = one
        self.nonempty = nonempty
        #: Some attribute has several values (a String.Array): policies take the general path.
        self.multi = multi
        self._parsed = parsed

    def values(self, name: str) -> tuple[bool, list[_Value]]:
        """``(present, values)`` of attribute ``name``. O(1)."""
        parsed = self._parsed.get(name, _ABSENT)
        return parsed[0], parsed[1]


def _compile_attributes(node: _Node) -> Callable[[PreparedAttributes], bool]:
    """Compile an attribute-scope node into ``match(prepared)``: a generated function for the
    common shapes (see _generate_fast), else the general interpreter below."""
    general = _compile_general(node)
    return _generate_fast(node, general) or general


def _compile_general(node: _Node) -> Callable[[PreparedAttributes], bool]:
    leaves = tuple((key, leaf) for key, _n, (leaf, _kind, _arg) in node.leaves)
    ors = tuple(tuple(_compile_attributes(alt) for alt in alts) for alts in node.ors)

    def match(attributes: PreparedAttributes) -> bool:
        parsed = attributes._parsed
        for key, leaf in leaves:
            entry = parsed.get(key, _ABSENT)
            if not leaf(entry[0], entry[1]):
                return False
        return not ors or all(any(alt(attributes) for alt in alts) for alts in ors)

    return match


def _generate_fast(
    node: _Node, general: Callable[[PreparedAttributes], bool]
) -> Callable[[PreparedAttributes], bool] | None:
    """For a node of plain leaves (value sets, one operator, ``"exists": true``; no ``$or``),
    generate ``match(prepared)`` as one ``and`` expression over ``prepared.one``: about a third
    of the interpreter's bytecode per key, and policies run once per subscription per publish.

    The source names only generated identifiers (``k0``, ``s0``, ``p0``); keys, value sets
    and predicates are bound as default arguments, never written into the source text.
    Messages with a multi-valued attribute go to ``general``.
    """
    if node.ors or node.children:
        return None
    bound: dict[str, Any] = {"general": general, "missing": _MISSING}
    terms: list[str] = []
    # Cheap tests first (an AND: the order changes nothing but the time to a miss).
    order = {_EXISTS: 0, _IN: 1, _ANY: 2}
    leaves = sorted(node.leaves, key=lambda leaf: order.get(leaf[2][1], 3))
    for i, (key, _n, (_fn, kind, arg)) in enumerate(leaves):
        bound[f"k{i}"] = key
        if kind == _EXISTS:
            terms.append(f"k{i} in nonempty")
        elif kind == _IN:
            bound[f"s{i}"] = arg
            terms.append(f"one.get(k{i}, missing) in s{i}")
        elif kind == _ANY:
            bound[f"p{i}"] = arg
            terms.append(f"p{i}(one.get(k{i}, missing))")
        else:
            return None
    params = "".join(f", {name}={name}" for name in bound)
    source = (
        f"def match(attributes{params}):\n"
        "    if attributes.multi:\n"
        "        return general(attributes)\n"
        "    one = attributes.one\n"
        "    nonempty = attributes.nonempty\n"
        f"    return {' and '.join(terms) or 'True'}\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "<filter policy>", "exec"), dict(bound), namespace)  # noqa: S102
    match: Callable[[PreparedAttributes], bool] = namespace["match"]
    return match


def _flatten(value: Any) -> list[Any]:
    """Scalars of a JSON value, walking into arrays in order; objects are not leaves. A loop,
    not recursion: arrays in a body may nest as deeply as the parser allows."""
    if not isinstance(value, list):
        return [] if isinstance(value, dict) else [value]
    out: list[Any] = []
    stack: list[Iterator[Any]] = [iter(value)]
    while stack:
        for element in stack[-1]:
            if isinstance(element, list):
                stack.append(iter(element))
                break
            if not isinstance(element, dict):
                out.append(element)
        else:
            stack.pop()
    return out


def _compile_body(node: _Node) -> Callable[[Any], bool]:
    """Compile a body-scope node into ``match(obj)``; ``obj`` is a JSON object or ``None``
    (the key leading here is absent), and arrays of objects match if any element matches."""
    leaves = tuple((key, leaf) for key, _n, (leaf, _kind, _arg) in node.leaves)
    children = tuple((key, _compile_body(child)) for key, child in node.children)
    ors = tuple(tuple(_compile_body(alt) for alt in alts) for alts in node.ors)

    def match(obj: Any) -> bool:
        is_object = isinstance(obj, dict)
        for key, leaf in leaves:
            if is_object and key in obj:
                if not leaf(True, _flatten(obj[key])):
                    return False
            elif not leaf(False, ()):
                return False
        for key, child in children:
            value = obj.get(key) if is_object else None
            if isinstance(value, list):
                objects = list(_iter_objects(value))
                ok = any(child(e) for e in objects) if objects else child(None)
            else:
                ok = child(value if isinstance(value, dict) else None)
            if not ok:
                return False
        return all(any(alt(obj) for alt in alts) for alts in ors)

    return match


def _iter_objects(array: list[Any]) -> Iterator[dict[str, Any]]:
    """The objects in an array and its nested arrays, in order (a loop, as in _flatten)."""
    stack: list[Iterator[Any]] = [iter(array)]
    while stack:
        for element in stack[-1]:
            if isinstance(element, dict):
                yield element
            elif isinstance(element, list):
                stack.append(iter(element))
                break
        else:
            stack.pop()


def _load_policy(policy: str | Mapping[str, Any]) -> dict[str, Any]:
    """Parse (or copy) the policy JSON and check its size; raise on anything not a JSON object."""
    if isinstance(policy, str):
        text = policy
    elif isinstance(policy, Mapping):
        try:
            text = dumps_json(policy, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise _invalid(f"failed to serialize the policy as JSON: {exc}") from None
    else:
        raise _invalid(f"the policy must be a JSON object, got {type(policy).__name__}")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise _invalid("the policy must be a valid UTF-8 string") from None
    if size > MAX_POLICY_BYTES:
        raise _invalid(
            f"Filter policy is too large: {size} bytes, the maximum is {MAX_POLICY_BYTES}"
        )
    try:
        parsed = loads_json(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise _invalid(f"failed to parse JSON. {exc}") from None
    if not isinstance(parsed, dict):
        raise _invalid("Filter policy must be a JSON object")
    return parsed


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


class FilterPolicy:
    """A compiled SNS subscription filter policy.

    Attributes:
        scope: ``"MessageAttributes"`` (default) or ``"MessageBody"``, the subscription's
            ``FilterPolicyScope``.
        policy: the parsed JSON policy, as given.

    Example:
        >>> policy = FilterPolicy.compile('{"store": ["example_corp"]}')
        >>> policy.matches_attributes({"store": ("String", "example_corp")})
        True
    """

    __slots__ = ("scope", "policy", "_empty", "_match_attributes", "_match_body")

    scope: str
    policy: dict[str, Any]
    _empty: bool
    _match_attributes: Callable[[PreparedAttributes], bool]
    _match_body: Callable[[Any], bool]

    def __init__(self) -> None:
        raise TypeError("use FilterPolicy.compile(policy, scope)")

    @classmethod
    def compile(
        cls, policy: str | Mapping[str, Any], scope: str = "MessageAttributes"
    ) -> FilterPolicy:
        """Validate ``policy`` and compile it for ``scope``. O(size of the policy).

        Args:
            policy: the policy JSON text, or the already-parsed object.
            scope: ``"MessageAttributes"`` or ``"MessageBody"``.

        Raises:
            InvalidParameter: the scope is unknown, the policy is not a JSON object of at most
                256 KB, is nested in attribute scope, has an unknown or malformed operator, an
                empty array, a number outside [-10^9, 10^9] or with more than 5 decimals, more
                than 5 keys or more than 150 combinations.
        """
        if scope not in SCOPES:
            raise InvalidParameter(
                f"Invalid parameter: FilterPolicyScope: Invalid value [{scope}]. "
                "Please use either MessageBody or MessageAttributes"
            )
        parsed = _load_policy(policy)
        root = _parse(parsed)
        if scope == "MessageAttributes" and _is_nested(root):
            raise InvalidParameter(
                "Invalid parameter: Filter policy scope MessageAttributes does not support "
                "nested filter policy"
            )
        if _combinations(root) > MAX_COMBINATIONS:
            raise _invalid("Filter policy is too complex")
        if max(len(keys) for keys in _key_sets(root)) > MAX_KEYS:
            raise _invalid(f"Filter policy can not have more than {MAX_KEYS} keys")
        compiled = object.__new__(cls)
        compiled.scope = scope
        compiled.policy = parsed
        compiled._empty = not parsed
        compiled._match_attributes = _compile_attributes(root)
        compiled._match_body = _compile_body(root)
        return compiled

    def matches_attributes(self, attributes: _Attributes | PreparedAttributes) -> bool:
        """Whether message attributes satisfy the policy (attribute-scope rules).

        ``attributes`` maps names to ``(DataType, StringValue)``. String and Number attributes
        are compared (custom suffixes such as ``Number.float`` allowed), a String.Array matches
        if any element does, Binary attributes are ignored. A message with no attributes
        matches no non-empty policy (page "Key matching": ``"exists": false`` needs at least
        one attribute). O(keys x values), plus parsing each String.Array the policy names (once
        per message when given :class:`PreparedAttributes`).
        """
        if self._empty:
            return True
        if not isinstance(attributes, PreparedAttributes):
            attributes = PreparedAttributes(attributes)
        return attributes.filterable and self._match_attributes(attributes)

    def matches_body(self, body: str) -> bool:
        """Whether a message body satisfies the policy (body-scope rules).

        The body must be a non-empty JSON object, else nothing matches (as for any body SNS
        cannot parse: not JSON, or nested deeper than
        :data:`~decoupling.message.MAX_JSON_DEPTH`); nested policy keys walk into it and arrays
        match if any element does. O(len(body)) to parse, then O(keys x values).
        """
        if self._empty:
            return True
        try:
            document = loads_json(body)
        except ValueError:
            return False
        return isinstance(document, dict) and bool(document) and self._match_body(document)

    def matches(self, body: str, attributes: _Attributes | PreparedAttributes) -> bool:
        """Dispatch on :attr:`scope` to :meth:`matches_body` or :meth:`matches_attributes`."""
        if self.scope == "MessageBody":
            return self.matches_body(body)
        return self.matches_attributes(attributes)

    def __repr__(self) -> str:
        return f"FilterPolicy.compile({json.dumps(self.policy)!r}, scope={self.scope!r})"
