"""Settings of dispatch (prefix `SD_`, on top of every service's and the notification channels')."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .notifications.settings import NotificationSettings


class Contact(BaseModel):
    name: str
    email: str
    phone: str | None = None
    language: str = Field("zh", pattern="^(zh|en)$")


def _default_contacts() -> dict[str, Contact]:
    roles = {"dispatcher": "Service desk dispatcher", "project-manager": "Project manager",
             "response-centre-manager": "Response centre manager (L1)", "technical-manager": "Technical manager (L2)",
             "technical-centre-manager": "Technical centre manager (L3)",
             "integration-manager": "Integration manager (L4)", "general-manager": "General manager (L5)"}
    return {role: Contact(name=name, email=f"{role}@servicedesk.example.com") for role, name in roles.items()}


class DispatchSettings(NotificationSettings):
    contacts: dict[str, Contact] = Field(default_factory=_default_contacts,
                                         description="Who a role is (dispatcher, project-manager, the L1-L5 "
                                                     "managers): JSON {role: {name, email, phone, language}}.")
    chase_batch_size: int = Field(200, ge=1, le=5000, description="Due chase marks fired per transaction.")
    chase_poll_interval_s: float = Field(0.2, gt=0, le=5, description="Longest sleep between looks for due marks.")
    notify_batch_size: int = Field(20, ge=1, le=500, description="Notifications sent per transaction.")
