from dispatch.service import DispatchService
from servicekit.launcher import run_service

run_service(DispatchService)
