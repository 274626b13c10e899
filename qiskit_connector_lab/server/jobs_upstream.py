"""The jobs side of the server's one shared upstream: every tab's job list comes from one cached, coalesced call.

A page of jobs (one filter set: pending, QPU, limit, offset) is a :class:`~.cache.SharedValue` on the same
:class:`~.upstream.Upstream` as the QPU listing (same provider, thread pool, single flights and backoff): fresh from
memory, else stale during a backoff, else one shared refresh (on IBM: one ``GET /api/v1/jobs``). A page that shows
a pending job stays fresh for ``jobs_pending_ttl`` (a second by default), so a job that ends is seen at the next
poll; a page of finished jobs for ``ttl``. Nothing refreshes the jobs while nobody asks for them.

One job's detail is fetched on demand (single flight per id, no cache: a detail is opened rarely and must be
current); a cancel goes straight through, then drops the cached pages so the next poll shows it.

On the wire a job's QPU is ``qpu`` (the record calls it ``backend``): :func:`wire_job`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..jobs.records import JobRecord
from ..providers import Provider
from ..providers.base import JobsPage
from .cache import Served, SharedValue
from .upstream import Upstream

PageKey = tuple[bool, str | None, int, int]

MAX_PAGES = 64  # filter sets kept; beyond that the ones nobody asks for any more are dropped


def wire_job(record: JobRecord) -> dict[str, Any]:
    """A job as the routes answer it: the record's fields, with its QPU as ``qpu``."""
    data = record.as_dict()
    data["qpu"] = data.pop("backend")
    return data


class SharedJobs:
    def __init__(self, upstream: Upstream, *, touch: Callable[[], None]) -> None:
        self.upstream = upstream
        self._touch = touch
        self._pages: dict[PageKey, SharedValue[JobsPage]] = {}
        #: provider.jobs() calls (each one upstream request on IBM), for the status route and the tests.
        self.list_calls = 0
        self.detail_calls = 0
        self.cancels = 0

    def _ttl(self, page: JobsPage) -> float:
        options = self.upstream.options
        if any(job.pending for job in page.jobs):
            return min(options.ttl, options.jobs_pending_ttl)
        return options.ttl

    async def page(
        self, pending: bool = False, qpu: str | None = None, limit: int = 20, offset: int = 0
    ) -> dict[str, Any]:
        self._touch()
        key: PageKey = (pending, qpu, limit, offset)
        value = self._pages.get(key)
        if value is None:
            if len(self._pages) >= MAX_PAGES:
                self._pages.clear()
            value = self._pages[key] = SharedValue(self.upstream, ("jobs", key), ttl=self._ttl)
        return self._payload(await value.get(lambda: self._fetch(key)))

    async def _fetch(self, key: PageKey) -> JobsPage:
        provider = await self.upstream.provider()
        self.list_calls += 1
        return await self.upstream.call("listing the jobs", provider.jobs, *key)

    def _payload(self, served: Served[JobsPage]) -> dict[str, Any]:
        page = served.value
        return {
            "provider": page.provider,
            "total": page.total,
            "jobs": [wire_job(job) for job in page.jobs],
            "notes": list(page.notes),
            "local": page.provider == "local",
            "fetched_at": served.fetched_at.isoformat(),
            "age_seconds": served.age(),
            "stale": served.stale,
            "stale_reason": served.stale_reason,
            "refresh_interval": self.upstream.options.refresh_interval,
        }

    def _forget_pages(self) -> None:
        for value in self._pages.values():
            value.forget()

    async def _uncached(self) -> Provider:
        """The provider for a call that is never served from memory (one job, a cancel): refused during a backoff."""
        self._touch()
        self.upstream.check_config()
        if self.upstream.backoff.active():
            raise self.upstream.blocking_error()
        return await self.upstream.provider()

    async def detail(self, job_id: str) -> dict[str, Any]:
        await self._uncached()

        async def fetch() -> tuple[str, dict[str, Any]]:
            provider = (
                await self.upstream.provider()
            )  # in the flight: a retry after a configuration change asks the new one
            self.detail_calls += 1
            return provider.kind, await self.upstream.call(f"reading job {job_id}", provider.job_detail, job_id)

        kind, found = await self.upstream.flight(("job", job_id), fetch)
        data = dict(found)
        data["qpu"] = data.pop("backend", "")
        data["local"] = kind == "local"
        return data

    async def cancel(self, job_id: str) -> dict[str, Any]:
        provider = await self._uncached()
        self.cancels += 1
        status = await self.upstream.call(f"cancelling job {job_id}", provider.cancel_job, job_id)
        self._forget_pages()  # the next poll must show it cancelled
        return {"id": job_id, "status": status}

    def status(self) -> dict[str, Any]:
        return {
            "list_calls": self.list_calls,
            "detail_calls": self.detail_calls,
            "cancels": self.cancels,
            "cached_pages": sum(value.value is not None for value in self._pages.values()),
        }
