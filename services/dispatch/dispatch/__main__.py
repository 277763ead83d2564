"""Run the dispatch service: `python -m dispatch`."""

from servicekit.launcher import run_service

# Named, not imported: the launcher applies eventlet's monkey patch before the service loads.
run_service("dispatch.service:DispatchService")
