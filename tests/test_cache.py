"""feedback.cache.Cache: bounded, least recently used dropped first, safe under many threads."""

from __future__ import annotations

import threading

import pytest

from feedback.cache import Cache, app_cache, cached


def test_bound_and_eviction_order():
    cache: Cache[str, int] = Cache(3)
    for i, key in enumerate("abc"):
        cache.put(key, i)
    assert cache.keys() == ["a", "b", "c"]
    assert cache.get("a") == 0  # a is now the most recently used
    cache.put("d", 3)  # drops b, the least recently used
    assert cache.keys() == ["c", "a", "d"] and len(cache) == 3
    assert "b" not in cache and cache.get("b") is None and cache.get("b", -1) == -1
    cache.put("e", 4)
    assert cache.keys() == ["a", "d", "e"]


def test_put_keeps_the_first_value_and_get_or_make_makes_once():
    cache: Cache[str, object] = Cache(2)
    first = object()
    assert cache.put("k", first) is first
    assert cache.put("k", object()) is first
    made = []
    assert cache.get_or_make("k", lambda: made.append(1)) is first and not made
    assert cache.get_or_make("n", lambda: made.append(1) or "new") == "new"
    assert cache.get_or_make("n", lambda: made.append(1) or "other") == "new"
    assert made == [1]


def test_explicit_invalidation():
    cache: Cache[int, int] = Cache(10)
    for i in range(5):
        cache.put(i, i * i)
    cache.discard(2)
    cache.discard(99)  # not kept: nothing happens
    assert cache.keys() == [0, 1, 3, 4] and cache.get(2) is None
    assert cache.get_or_make(2, lambda: -4) == -4  # made again after its invalidation
    cache.clear()
    assert len(cache) == 0 and list(cache) == []


def test_a_size_below_one_is_refused():
    with pytest.raises(ValueError):
        Cache(0)


def test_many_threads_never_break_the_bound_or_lose_a_value():
    cache: Cache[int, int] = Cache(64)
    errors: list[str] = []
    start = threading.Barrier(32)

    def hammer(n: int):
        start.wait()
        for i in range(3000):
            key = (i * 7 + n) % 200
            value = cache.get_or_make(key, lambda key=key: key * 3)
            if value != key * 3:
                errors.append(f"{key}: {value}")
            if i % 97 == 0:
                cache.discard(key)
            if len(cache) > 64:
                errors.append(f"size {len(cache)}")

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    keys = cache.keys()
    assert len(keys) == len(set(keys)) <= 64
    assert all(cache.get(k) == k * 3 for k in keys)


def test_concurrent_makers_of_one_key_all_get_the_value_kept():
    cache: Cache[str, object] = Cache(4)
    start = threading.Barrier(16)
    got: list[object] = []

    def make_it():
        start.wait()
        got.append(cache.get_or_make("k", object))

    threads = [threading.Thread(target=make_it) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 16 and all(v is cache.get("k") for v in got)


def test_cached_function():
    calls = []

    @cached(maxsize=2)
    def square(n):
        calls.append(n)
        return n * n

    assert [square(2), square(2), square(3), square(4), square(2)] == [4, 4, 9, 16, 4]
    assert calls == [2, 3, 4, 2]  # 2 was dropped when 4 came in
    assert square.cache.keys() == [(4,), (2,)]


def test_each_app_has_its_own_caches(make_app):
    first, second = make_app(), make_app()
    with first.app_context():
        pages = app_cache("pages", 5)
        assert app_cache("pages", 5) is pages
        pages.put("k", 1)
    assert app_cache("pages", 5, app=second).get("k") is None
    assert app_cache("pages", 5, app=first).get("k") == 1
