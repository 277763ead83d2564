from reporting.service import ReportingService
from servicekit.launcher import run_service

run_service(ReportingService)
