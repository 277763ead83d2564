from servicekit.launcher import run_service
from spares.service import SparesService

run_service(SparesService)
