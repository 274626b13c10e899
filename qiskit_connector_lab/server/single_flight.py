"""Single flight: at most one call per key in progress; every concurrent caller awaits that same call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Future[Any]] = {}
        #: Calls started, and callers that joined a call already in progress (for the status route).
        self.started = 0
        self.joined = 0

    async def run(self, key: Hashable, factory: Callable[[], Awaitable[T]]) -> T:
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(factory())
            self._flights[key] = flight
            self.started += 1
            flight.add_done_callback(lambda done: self._landed(key, done))
        else:
            self.joined += 1
        # shield: a client that disconnects must not cancel the call the others are waiting for.
        return await asyncio.shield(flight)

    def _landed(self, key: Hashable, flight: asyncio.Future[Any]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # mark it retrieved: the waiters (if any) got it

    def in_flight(self, key: Hashable) -> bool:
        return key in self._flights

    async def cancel_all(self) -> None:
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        for flight in flights:
            try:
                await flight
            except BaseException:  # noqa: BLE001, S110 - cancelled or failed; either way it is over
                pass
