"""Run the reporting service: `python -m reporting`."""

from servicekit.launcher import run_service

# Named, not imported: the launcher applies eventlet's monkey patch before the service loads.
run_service("reporting.service:ReportingService")
