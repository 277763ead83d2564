"""The intake nameko service: thin entrypoints over the domain core."""

from servicekit.service import PlatformService


class IntakeService(PlatformService):
    name = "intake"
