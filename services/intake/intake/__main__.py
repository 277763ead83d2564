from servicekit.launcher import run_service

from intake.service import IntakeService

run_service(IntakeService)
