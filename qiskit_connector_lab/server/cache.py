"""One cached value the server shares between every client, and the one rule for serving it.

:meth:`SharedValue.get` answers, in this order:

1. **fresh**: the value is younger than its TTL: it is served from memory;
2. **stale during backoff**: the upstream is backing off (:class:`~.backoff.Backoff`, a 429's ``Retry-After``
   honoured) and there is a value: it is served marked stale, with a one-sentence reason; with no value, the error
   that started the backoff is the answer;
3. **one shared fetch**: otherwise one fetch runs (single flight: every request arriving meanwhile awaits the same
   one), and a failure serves the last value marked stale, or is the answer when there is none.

The listing, each QPU's detail, the plan and each page of jobs are one ``SharedValue`` each. The fetch a value is
given calls the provider through :meth:`~.upstream.Upstream.call`, which keeps it off the event loop and tells the
backoff how it went.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from ..errors import ConnectorError
from ..qpus import utcnow
from .http_errors import first_sentence
from .upstream import Upstream

T = TypeVar("T")


def stale_reason(error: ConnectorError | None) -> str:
    """One sentence: why the data is stale."""
    if error is None:
        return "The last refresh failed; showing the last good data."
    return first_sentence(error.message).rstrip(".!? ") + "; showing the last good data."


@dataclass(frozen=True)
class Served(Generic[T]):
    """What :meth:`SharedValue.get` answers: the value, when it was fetched, and why it is stale (None: fresh)."""

    value: T
    fetched_at: datetime
    error: ConnectorError | None = None

    @property
    def stale(self) -> bool:
        return self.error is not None

    @property
    def stale_reason(self) -> str:
        return stale_reason(self.error) if self.error is not None else ""

    def age(self) -> float:
        return round((utcnow() - self.fetched_at).total_seconds(), 3)


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T
    fetched_at: datetime
    taken: float  # upstream clock
    expires: float


class SharedValue(Generic[T]):
    """One value (the listing, a QPU's detail, the plan, a page of jobs) under the fresh / stale / one-fetch rule.

    ``ttl`` is the freshness in seconds, or a function of the value (a page with a pending job stays fresh for
    less). With ``serve_while_refreshing``, a request arriving while a refresh is under way gets the value it
    replaces instead of waiting (only the request that started the refresh waits).
    """

    def __init__(
        self,
        upstream: Upstream,
        key: Hashable,
        *,
        ttl: float | Callable[[T], float],
        serve_while_refreshing: bool = False,
    ) -> None:
        self.upstream = upstream
        self.key = key
        self._ttl = ttl
        self._serve_while_refreshing = serve_while_refreshing
        self._entry: _Entry[T] | None = None
        self._error: ConnectorError | None = None  # the last fetch's failure (None after a success)
        self._epoch = (upstream.generation, 0)  # (the upstream's configuration, forget() count)

    @property
    def value(self) -> T | None:
        """The last good value, fresh or not (None before the first fetch)."""
        self._follow_configuration()
        return self._entry.value if self._entry is not None else None

    @property
    def failed(self) -> bool:
        """The last fetch failed (the value, if any, is served stale)."""
        return self._error is not None

    def forget(self) -> None:
        """Drop the value; a fetch still under way will not put its result back."""
        self._entry, self._error = None, None
        self._epoch = (self.upstream.generation, self._epoch[1] + 1)

    def expire(self) -> None:
        """Keep the value, but make the next request fetch a new one."""
        if self._entry is not None:
            entry = self._entry
            self._entry = _Entry(entry.value, entry.fetched_at, entry.taken, self.upstream.clock() - 1)

    def taken_within(self, seconds: float) -> bool:
        """There is a value, fetched less than ``seconds`` ago."""
        return self._entry is not None and self.upstream.clock() - self._entry.taken < seconds

    def _follow_configuration(self) -> None:
        if self._epoch[0] != self.upstream.generation:
            self._entry, self._error = None, None
            self._epoch = (self.upstream.generation, self._epoch[1])

    async def get(self, fetch: Callable[[], Awaitable[T]]) -> Served[T]:
        up = self.upstream
        up.check_config()
        self._follow_configuration()
        entry = self._entry
        if entry is not None and up.clock() <= entry.expires:
            up.stats.cache_hits += 1
            return self._serve(entry, None)
        if up.backoff.active():
            if entry is None:
                raise up.blocking_error(self._error)
            return self._serve(entry, self._error or up.backoff.last_error)
        if entry is not None and self._serve_while_refreshing and up.in_flight(self.key):
            up.stats.cache_hits += 1
            return self._serve(entry, self._error)
        generation = up.generation
        try:
            fresh = await self._shared_fetch(fetch)
        except ConnectorError as error:
            if entry is None or up.generation != generation:  # the entry is the old configuration's
                raise
            return self._serve(entry, error)
        return self._serve(fresh, None)

    async def refresh(self, fetch: Callable[[], Awaitable[T]]) -> T:
        """Fetch a new value now, fresh or not (one flight: a refresh under way is joined, not doubled)."""
        return (await self._shared_fetch(fetch)).value

    async def _shared_fetch(self, fetch: Callable[[], Awaitable[T]]) -> _Entry[T]:
        return await self.upstream.flight(self.key, lambda: self._fetch(fetch))

    def _serve(self, entry: _Entry[T], error: ConnectorError | None) -> Served[T]:
        if error is not None:
            self.upstream.stats.stale_served += 1
        return Served(entry.value, entry.fetched_at, error)

    async def _fetch(self, fetch: Callable[[], Awaitable[T]]) -> _Entry[T]:
        epoch = self._epoch
        try:
            value = await fetch()
        except ConnectorError as error:
            if epoch == self._epoch:
                self._error = error
            raise
        ttl = self._ttl(value) if callable(self._ttl) else self._ttl
        now = self.upstream.clock()
        entry = _Entry(value, utcnow(), now, now + ttl)
        if epoch == self._epoch and self.upstream.generation == epoch[0]:
            self._entry, self._error = entry, None
        return entry
