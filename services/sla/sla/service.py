"""The sla nameko service: thin entrypoints over the domain core."""

from servicekit.service import PlatformService


class SlaService(PlatformService):
    name = "sla"
