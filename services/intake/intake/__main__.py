"""Run the intake service: `python -m intake`."""

from servicekit.launcher import run_service

# Named, not imported: the launcher applies eventlet's monkey patch before the service loads.
run_service("intake.service:IntakeService")
