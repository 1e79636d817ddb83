"""The web layer's one LRU: bounds by count and by bytes, recency, compute-once, threads."""

import threading

import pytest

from web.lru_cache import LruCache


def test_the_least_recently_used_entry_goes_first():
    cache = LruCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_a_byte_budget_evicts_until_the_total_fits():
    cache = LruCache(max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"5678")
    cache.put("c", b"90ab")  # 12 bytes > 10: "a" goes
    assert cache.get("a") is None and cache.size == 8
    cache.put("b", b"x")  # replacing an entry counts its new size only
    assert cache.size == 5
    cache.put("big", b"y" * 11)  # bigger than the whole budget: nothing can stay
    assert len(cache) == 0 and cache.size == 0


def test_get_or_compute_computes_a_missing_value_once_and_keeps_falsy_values():
    cache = LruCache(max_entries=4)
    calls = []
    for _ in range(3):
        assert cache.get_or_compute("zero", lambda: calls.append(1) or 0) == 0
    assert calls == [1]


def test_clear_forgets_everything():
    cache = LruCache(max_entries=3, max_bytes=100)
    cache.put("a", b"abc")
    cache.clear()
    assert cache.get("a") is None and cache.size == 0


def test_a_cache_needs_a_bound():
    with pytest.raises(ValueError, match="max_entries, max_bytes or both"):
        LruCache()


def test_threads_never_break_the_bounds():
    cache = LruCache(max_entries=50, max_bytes=400)

    def hammer(offset: int) -> None:
        for n in range(2000):
            cache.put((offset, n % 120), b"x" * (n % 9))
            cache.get((offset, (n * 7) % 120))

    threads = [threading.Thread(target=hammer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) <= 50 and cache.size <= 400
    assert cache.size == sum(len(cache.get(k, b"")) for k in list(cache._items))
