"""ExpiringMap (the FIFO deduplication window) and ExpiringKeys (deleted handles) against dict models."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from decoupling._core.dedup import ExpiringKeys, ExpiringMap

# ("put" | "add", key, lifetime) | ("get", key, 0) | ("pop", key, 0) | ("tick", 0, step)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(0, 8), st.sampled_from([0.5, 1.0, 5.0, 300.0])),
        st.tuples(st.just("add"), st.integers(0, 8), st.sampled_from([0.5, 1.0, 5.0, 300.0])),
        st.tuples(st.just("get"), st.integers(0, 8), st.just(0.0)),
        st.tuples(st.just("pop"), st.integers(0, 8), st.just(0.0)),
        st.tuples(st.just("tick"), st.just(0), st.sampled_from([0.0, 0.5, 1.0, 100.0])),
    ),
    max_size=150,
)


@given(ops)
def test_matches_a_dict_model(operations: list[tuple[str, int, float]]) -> None:
    window: ExpiringMap[int, int] = ExpiringMap()
    model: dict[int, tuple[float, int]] = {}
    now = 0.0
    for i, (op, key, number) in enumerate(operations):
        if op == "tick":
            now += number
        elif op == "put":
            window.put(key, i, now + number, now)
            model[key] = (now + number, i)
        elif op == "add":
            live = model[key][1] if key in model and model[key][0] > now else None
            assert window.add(key, i, now + number, now) == live
            if live is None:
                model[key] = (now + number, i)
        elif op == "pop":
            # expired keys were dropped from both at the end of the previous step
            assert (window.pop(key) is not None) == (key in model)
            model.pop(key, None)
        else:
            expected = model[key][1] if key in model and model[key][0] > now else None
            assert window.get(key, now) == expected
        window.expire(now)
        model = {k: v for k, v in model.items() if v[0] > now}
        assert len(window) == len(model)
        assert sorted(window.keys()) == sorted(model)


def test_an_entry_is_gone_at_exactly_its_expiry() -> None:
    window: ExpiringMap[str, str] = ExpiringMap()
    window.put("d", "first", 300.0, 0.0)
    assert window.get("d", 299.999) == "first"
    assert window.get("d", 300.0) is None
    assert len(window) == 0


def test_replacing_keeps_the_new_expiry() -> None:
    window: ExpiringMap[str, int] = ExpiringMap()
    window.put("k", 1, 10.0, 0.0)
    window.put("k", 2, 20.0, 5.0)
    assert window.get("k", 15.0) == 2  # the stale item due at 10 did not remove it
    assert window.get("k", 20.0) is None


def test_heap_stays_proportional_to_live_keys() -> None:
    window: ExpiringMap[str, int] = ExpiringMap()
    for i in range(10_000):
        window.put("same", i, 1e9, 0.0)  # one key replaced 10,000 times
    assert len(window) == 1
    assert len(window._keys) + len(window._heap) <= 2 * len(window) + 1025


def test_clear() -> None:
    window: ExpiringMap[str, int] = ExpiringMap()
    window.put("a", 1, 10.0, 0.0)
    window.clear()
    assert window.get("a", 0.0) is None
    assert len(window) == 0


def test_add_keeps_the_original_and_its_expiry() -> None:
    window: ExpiringMap[str, str] = ExpiringMap()
    assert window.add("d", "first", 300.0, 0.0) is None
    assert window.add("d", "second", 400.0, 100.0) == "first"  # a duplicate: nothing changes
    assert window.get("d", 299.0) == "first"
    assert window.add("d", "third", 600.0, 300.0) is None  # expired at 300: new again
    assert window.get("d", 599.0) == "third"
    window.put("x", "late", 50.0, 300.0)  # earlier than the run's newest: the heap
    assert window.add("x", "again", 700.0, 10.0) == "late"
    assert len(window._keys) + len(window._heap) == 2  # add leaves no stale items


# ExpiringKeys (a FIFO queue's handles of messages deleted in flight): ("add", key, lifetime) |
# ("contains", key, 0) | ("tick", 0, step). Keys are never re-added, as handles are unique.
key_ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.just(0), st.sampled_from([0.5, 1.0, 5.0, 30.0])),
        st.tuples(st.just("contains"), st.integers(0, 40), st.just(0.0)),
        st.tuples(st.just("tick"), st.just(0), st.sampled_from([0.0, 0.5, 1.0, 10.0])),
    ),
    max_size=150,
)


@given(key_ops)
def test_expiring_keys_match_a_dict_model(operations: list[tuple[str, int, float]]) -> None:
    keys: ExpiringKeys[int] = ExpiringKeys()
    model: dict[int, float] = {}
    now = 0.0
    for i, (op, key, number) in enumerate(operations):
        if op == "tick":
            now += number
        elif op == "add":
            keys.add(i, now + number, now)
            model[i] = now + number
        else:
            assert keys.contains(key, now) == (now < model.get(key, -1.0))
        live = {k for k, until in keys.expiries(now).items() if now < until}
        assert live == {k for k, until in model.items() if now < until}


def test_expiring_keys_forget_at_exactly_the_expiry_and_drop_the_expired() -> None:
    keys: ExpiringKeys[str] = ExpiringKeys()
    keys.add("h1", 30.0, 0.0)
    keys.add("h2", 31.0, 1.0)
    assert keys.contains("h1", 29.999) and keys.contains("h2", 29.999)
    assert not keys.contains("h1", 30.0)
    assert keys.contains("h2", 30.0)
    keys.add("h3", 5.0, 2.0)  # out of expiry order: indexed at once
    assert keys.contains("h3", 4.0) and not keys.contains("h3", 5.0)
    # In order, the run forgets expired keys from its front as keys are added.
    fresh: ExpiringKeys[int] = ExpiringKeys()
    for i in range(100):
        fresh.add(i, i + 30.0, float(i))
    assert len(fresh._keys) == 30  # keys 70..99: the ones expiring after 99.0, the last now
    fresh.clear()
    assert fresh.expiries(0.0) == {} and not fresh.contains(99, 0.0)
