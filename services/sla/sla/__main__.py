"""Run the sla service: `python -m sla`."""

from servicekit.launcher import run_service

# Named, not imported: the launcher applies eventlet's monkey patch before the service loads.
run_service("sla.service:SlaService")
