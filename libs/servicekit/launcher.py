"""Start one nameko service process: cooperative I/O first, then settings, logs and the container.

    python -m intake          # each service package's __main__ calls run_service("intake.service:...")

Importing this module applies eventlet's monkey patch; it must be the first import of a process.
"""

# Cooperative I/O must be in place before anything opens a socket or imports psycopg2's users.
import eventlet

eventlet.monkey_patch()

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

import importlib  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from .logs import configure_logging  # noqa: E402
from .settings import ServiceSettings  # noqa: E402

log = logging.getLogger(__name__)


def nameko_config(settings: ServiceSettings) -> dict:
    return {
        "AMQP_URI": settings.amqp_uri,
        "WEB_SERVER_ADDRESS": f"{settings.http_host}:{settings.http_port}",
        "max_workers": settings.max_workers,
        "parent_calls_tracked": 10,
        "SERVICEKIT": settings,
    }


def run_service(service_path: str) -> None:
    """`service_path` is "package.module:Class"; it is imported here, after the monkey patch, so no
    import order elsewhere (a formatter reordering imports, say) can load a blocking module first."""
    module_name, _, class_name = service_path.partition(":")
    service_cls = getattr(importlib.import_module(module_name), class_name)
    settings = ServiceSettings()
    configure_logging(service_cls.name, settings.log_level, settings.log_format)
    runner = ServiceRunner(nameko_config(settings))
    runner.add_service(service_cls)
    stopping = eventlet.event.Event()

    def request_stop(signum, frame) -> None:
        if not stopping.ready():
            stopping.send(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    runner.start()
    log.info("%s started; health and metrics on http://%s:%s", service_cls.name, settings.http_host,
             settings.http_port)
    signum = stopping.wait()
    log.info("%s stopping (signal %s)", service_cls.name, signum)
    try:
        with eventlet.Timeout(20):
            runner.stop()  # finishes in-flight handlers; unacked messages go back to the queue
    except eventlet.Timeout:
        runner.kill()


if __name__ == "__main__":
    import sys

    run_service(sys.argv[1])  # python -m servicekit.launcher package.module:Class
