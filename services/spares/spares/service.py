"""The spares nameko service: thin entrypoints over the domain core."""

from servicekit.service import PlatformService


class SparesService(PlatformService):
    name = "spares"
