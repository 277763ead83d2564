"""What `make run` starts: the processes of docker-compose.yml, as local processes."""

from __future__ import annotations

from dataclasses import dataclass

SERVICES = ("intake", "sla", "dispatch", "spares", "reporting")


@dataclass(frozen=True)
class Process:
    name: str
    module: str  # run as `python -m <module>`
    port: int  # HTTP: health and metrics (and the API, for the gateway)
    database: str | None  # None: keeps no database (the mail catcher)

    @property
    def migrate_module(self) -> list[str]:
        return ["gateway.migrate"] if self.name == "gateway" else ["servicekit.migrate", self.name]


def processes(gateway_port: int, metrics_base_port: int, mailcatcher_port: int) -> list[Process]:
    services = [Process(name, name, metrics_base_port + i, f"sd_{name}") for i, name in enumerate(SERVICES)]
    return [Process("mailcatcher", "localrun.mailcatcher", mailcatcher_port, None), *services,
            Process("gateway", "gateway", gateway_port, "sd_gateway")]
