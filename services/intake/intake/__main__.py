from intake.service import IntakeService
from servicekit.launcher import run_service

run_service(IntakeService)
