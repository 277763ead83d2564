"""The dispatch nameko service: thin entrypoints over the domain core."""

from servicekit.service import PlatformService


class DispatchService(PlatformService):
    name = "dispatch"
