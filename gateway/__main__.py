"""Run the gateway: `python -m gateway`."""

import uvicorn

from servicekit.logs import configure_logging

from .app import create_app
from .settings import GatewaySettings

settings = GatewaySettings()
configure_logging("gateway", settings.log_level, settings.log_format)
# uvloop and httptools: the event loop and HTTP parser in C; each measured as the gateway's hot spots.
uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None,
            access_log=False, loop="uvloop", http="httptools")
