"""The one cache of the app: a bounded, thread-safe map that drops its least recently used entry.

Every cache in the package is a ``Cache``: module-wide ones (parsed survey definitions, form
classes, languages) and those of one application, made by ``app_cache`` and kept in
``app.extensions["feedback.caches"]`` (survey pages, question fragments, survey versions,
charts), so that two apps in one process (the tests) never share rows of different databases.

What may be cached (the contract): production runs several worker processes on several machines
against one database, and a cache lives in one process. So a cached value must be either

* **immutable for its key**: a stored survey version by id, a definition by its checksum, a
  page by its version id, language and query, a language by its code; or
* **keyed by a version read from the database on every use**, such as the charts' data stamp,
  so that a change made through any process is seen by every process at its next request.

Nothing else (a row that can change, a setting another process can write) may be cached here.
Entries are dropped when the cache is full (the least recently used first), by ``discard`` or by
``clear``; none of these is needed for correctness under the contract, only for memory.

``get_or_make`` makes a missing value outside the lock (a page render must not hold up other
threads); two threads missing the same key together may both make it, and the first stored wins,
which under the contract is the same value.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

from flask import Flask, current_app

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING: Any = object()


class Cache(Generic[K, V]):
    """At most ``maxsize`` entries; a full cache drops its least recently used one."""

    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, default: Any = None) -> V | Any:
        """The value kept for ``key`` (now the most recently used), else ``default``."""
        with self._lock:
            value = self._entries.get(key, _MISSING)
            if value is _MISSING:
                return default
            self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` for ``key`` unless one is kept already; return the one kept."""
        with self._lock:
            kept = self._entries.get(key, _MISSING)
            if kept is not _MISSING:
                self._entries.move_to_end(key)
                return kept
            self._entries[key] = value
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
            return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for ``key``, else ``make()`` kept and returned (see the module's note)."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = self.put(key, make())
        return value

    def discard(self, key: K) -> None:
        """Forget ``key`` (nothing happens if it is not kept)."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def keys(self) -> list[K]:
        """The keys, least recently used first (a copy)."""
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[K]:
        return iter(self.keys())


def cached(maxsize: int) -> Callable[[Callable[..., V]], Callable[..., V]]:
    """A function's results in a ``Cache`` keyed by its (hashable, positional) arguments.

    The function's results must obey the module's contract. ``fn.cache`` is the cache.
    """

    def decorate(fn: Callable[..., V]) -> Callable[..., V]:
        cache: Cache = Cache(maxsize)

        def wrapper(*args):
            return cache.get_or_make(args, lambda: fn(*args))

        wrapper.cache = cache  # type: ignore[attr-defined]
        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapper

    return decorate


_APP_CACHES_LOCK = threading.Lock()


def app_cache(name: str, maxsize: int, app: Flask | None = None) -> Cache:
    """The application's cache called ``name`` (made on first use with ``maxsize``)."""
    extensions = (app or current_app).extensions
    caches = extensions.get("feedback.caches")
    cache = caches.get(name) if caches is not None else None
    if cache is None:
        with _APP_CACHES_LOCK:
            caches = extensions.setdefault("feedback.caches", {})
            cache = caches.setdefault(name, Cache(maxsize))
    return cache
