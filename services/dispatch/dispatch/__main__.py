from servicekit.launcher import run_service

from dispatch.service import DispatchService

run_service(DispatchService)
