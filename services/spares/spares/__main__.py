"""Run the spares service: `python -m spares`."""

from servicekit.launcher import run_service

# Named, not imported: the launcher applies eventlet's monkey patch before the service loads.
run_service("spares.service:SparesService")
