"""The jobs side of the server's one shared upstream: every tab's job list comes from one cached, coalesced call.

:class:`SharedJobs` rides on :class:`~.shared_upstream.SharedUpstream`: the same provider, thread pool, single
flight, backoff and stale rules as the QPU list. A page of jobs (one filter set: pending, QPU, limit, offset) is
served from memory for the upstream's ``ttl``; when it is older the first request refreshes it (on IBM: one
``GET /api/v1/jobs``) and every request arriving meanwhile awaits that same refresh. Nothing refreshes the jobs
while nobody asks for them. During a backoff, or when a refresh fails, the last good page is served marked
``stale`` with a one-sentence reason; with no page yet, the error is the answer.

One job's detail is fetched on demand (single flight per id, no cache: a detail is opened rarely and must be
current); a cancel goes straight through, then drops the cached pages so the next poll shows it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import ConnectorError, UpstreamError
from ..providers.base import JobsPage
from ..qpus import utcnow

if TYPE_CHECKING:  # pragma: no cover
    from .shared_upstream import SharedUpstream

PageKey = tuple[bool, str | None, int, int]


@dataclass
class _Page:
    page: JobsPage
    fetched_at: datetime
    taken: float


class SharedJobs:
    def __init__(self, upstream: SharedUpstream) -> None:
        self.up = upstream
        self._pages: dict[PageKey, _Page] = {}
        self._generation = 0  # bumped when the pages are forgotten: a fetch from before must not put one back
        #: provider.jobs() calls (each one upstream request on IBM), for the status route and the tests.
        self.list_calls = 0
        self.detail_calls = 0
        self.cancels = 0

    def forget(self) -> None:
        """Drop every cached page, and any fetch still under way for the old configuration (a new .env)."""
        self._pages.clear()
        self._generation += 1

    async def page(
        self, pending: bool = False, backend: str | None = None, limit: int = 20, offset: int = 0
    ) -> dict[str, Any]:
        up = self.up
        up._check_config()  # a new .env drops these pages first
        up.touch()
        key: PageKey = (pending, backend, limit, offset)
        entry = self._pages.get(key)
        if entry is not None and up._clock() - entry.taken <= up.options.ttl:
            up.stats.cache_hits += 1
            return self._payload(entry, None)
        if up.backoff.active():
            if entry is None:
                raise up._blocking_error()
            return self._payload(entry, up.backoff.last_error)
        try:
            entry = await up._flights.run(("jobs", key), functools.partial(self._fetch, key))
        except ConnectorError as error:
            if entry is None:
                raise
            return self._payload(entry, error)
        return self._payload(entry, None)

    async def _fetch(self, key: PageKey) -> _Page:
        up = self.up
        generation = self._generation
        provider = await up.provider()
        pending, backend, limit, offset = key
        self.list_calls += 1
        try:
            page = await up._call("listing the jobs", provider.jobs, pending, backend, limit, offset)
        except ConnectorError as error:
            up._failed(error, "listing the jobs")
            raise
        up._succeeded()
        entry = _Page(page=page, fetched_at=utcnow(), taken=up._clock())
        if generation != self._generation:  # the pages were forgotten meanwhile (a cancel, a new .env)
            return entry
        if len(self._pages) > 64:  # bounded: filter sets nobody asks for any more
            self._pages.clear()
        self._pages[key] = entry
        return entry

    def _payload(self, entry: _Page, error: ConnectorError | None) -> dict[str, Any]:
        from .shared_upstream import stale_reason

        if error is not None:
            self.up.stats.stale_served += 1
        data = entry.page.as_dict()
        data.update(
            local=entry.page.provider == "local",
            fetched_at=entry.fetched_at.isoformat(),
            age_seconds=round((utcnow() - entry.fetched_at).total_seconds(), 3),
            stale=error is not None,
            stale_reason=stale_reason(error) if error is not None else "",
            refresh_interval=self.up.options.refresh_interval,
        )
        return data

    async def detail(self, job_id: str) -> dict[str, Any]:
        up = self.up
        up.touch()
        if up.backoff.active():
            raise up._blocking_error()
        provider = await up.provider()

        async def fetch() -> dict[str, Any]:
            self.detail_calls += 1
            try:
                data = await up._call(f"reading job {job_id}", provider.job_detail, job_id)
            except UpstreamError as error:
                up._failed(error, f"reading job {job_id}")
                raise
            up._succeeded()
            return data

        data = dict(await up._flights.run(("job", job_id), fetch))
        data["local"] = provider.kind == "local"
        return data

    async def cancel(self, job_id: str) -> dict[str, Any]:
        up = self.up
        up.touch()
        if up.backoff.active():
            raise up._blocking_error()
        provider = await up.provider()
        self.cancels += 1
        try:
            status = await up._call(f"cancelling job {job_id}", provider.cancel_job, job_id)
        except UpstreamError as error:
            up._failed(error, f"cancelling job {job_id}")
            raise
        self.forget()  # the next poll must show it cancelled
        return {"id": job_id, "status": status}

    def status(self) -> dict[str, Any]:
        return {
            "list_calls": self.list_calls,
            "detail_calls": self.detail_calls,
            "cancels": self.cancels,
            "cached_pages": len(self._pages),
        }
