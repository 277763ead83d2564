from servicekit.launcher import run_service
from sla.service import SlaService

run_service(SlaService)
