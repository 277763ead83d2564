"""Background loops a service runs in every replica for the life of its container (durable timers,
senders), on the service's own database. A subclass names its loops; claiming rows with
`FOR UPDATE SKIP LOCKED` inside them is what keeps replicas off each other's work."""

from __future__ import annotations

from collections.abc import Callable

from nameko.extensions import DependencyProvider

from .db import UnitOfWork
from .service import Database


class BackgroundLoops(DependencyProvider):
    running = False

    def loops(self) -> dict[str, Callable[[], None]]:
        """identifier -> a loop that runs while `self.running`."""
        raise TypeError(f"{type(self).__name__} names its loops")

    @property
    def database(self) -> UnitOfWork:
        return next(d for d in self.container.dependencies if isinstance(d, Database)).unit_of_work

    def start(self) -> None:
        self.running = True
        for identifier, loop in self.loops().items():
            self.container.spawn_managed_thread(loop, identifier=identifier)

    def stop(self) -> None:
        self.running = False

    kill = stop
