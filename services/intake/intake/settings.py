"""Intake's settings: the shared service settings plus where attachment files are kept."""

from pathlib import Path

from pydantic import Field

from servicekit.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    attachments_dir: Path = Field(Path("attachments"), description="Directory of attachment files.")
