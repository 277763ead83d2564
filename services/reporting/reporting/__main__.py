from servicekit.launcher import run_service

from reporting.service import ReportingService

run_service(ReportingService)
