"""Intake's pure rules, checked against the domain's tables by hand."""

from __future__ import annotations

import uuid

import pytest

from contracts.cases import CaseStatus as S
from contracts.cases import Tier
from contracts.intake import Action as A
from contracts.intake import Actor, CaseType, Impact, Role
from intake.domain import access
from intake.domain.errors import Refused
from intake.domain.numbering import case_number
from intake.domain.status import next_status
from intake.domain.tiers import suggest_tier


@pytest.mark.parametrize(("impact", "tier"), [
    (Impact(users_affected=51), Tier.P1),        # "> 50 users"
    (Impact(users_affected=50), Tier.P3),        # 50 is not more than 50
    (Impact(share_of_users_pct=10), Tier.P1),    # ">= 10 % of users"
    (Impact(share_of_users_pct=9.9), Tier.P3),
    (Impact(share_of_trunks_pct=30), Tier.P1),   # ">= 30 % of trunk routes"
    (Impact(share_of_trunks_pct=29), Tier.P3),
    (Impact(restart_count=2), Tier.P1),          # "two or more automatic restarts"
    (Impact(restart_count=1), Tier.P3),
    (Impact(power_failure=True), Tier.P1),
    (Impact(key_users_affected=True), Tier.P2),  # attendant console, VIP, call-centre users
    (Impact(severe_degradation=True), Tier.P2),
    (Impact(), Tier.P3),                         # "any other fault"
])
def test_tier_hints_of_the_domain(impact: Impact, tier: Tier) -> None:
    assert suggest_tier(impact, CaseType.FAULT)[0] is tier


def test_requests_and_inspections_are_routine_whatever_the_impact() -> None:
    assert suggest_tier(Impact(users_affected=500), CaseType.REQUEST)[0] is Tier.P4
    assert suggest_tier(Impact(), CaseType.INSPECTION)[0] is Tier.P4


def move(current: S, action: A, role: Role = Role.AGENT, reason: str | None = None, assignee: str | None = None,
         resolved: bool = True) -> S:
    return next_status(current, action, role, reason, assignee, resolved)


def test_the_happy_path_and_the_pauses() -> None:
    assert move(S.NEW, A.ASSIGN, assignee="e") is S.ASSIGNED
    assert move(S.ASSIGNED, A.START, Role.ENGINEER) is S.IN_PROGRESS
    assert move(S.IN_PROGRESS, A.AWAIT_CUSTOMER, Role.ENGINEER) is S.AWAITING_CUSTOMER
    assert move(S.AWAITING_CUSTOMER, A.CUSTOMER_REPLIED, Role.CUSTOMER) is S.IN_PROGRESS
    assert move(S.IN_PROGRESS, A.AWAIT_REPRODUCTION, Role.ENGINEER) is S.AWAITING_REPRODUCTION
    assert move(S.AWAITING_REPRODUCTION, A.RECURRED, Role.CUSTOMER) is S.IN_PROGRESS
    assert move(S.IN_PROGRESS, A.RESOLVE, Role.ENGINEER) is S.RESOLVED
    assert move(S.RESOLVED, A.REJECT, Role.CUSTOMER, reason="no") is S.REOPENED
    assert move(S.REOPENED, A.START, Role.ENGINEER) is S.IN_PROGRESS
    assert move(S.RESOLVED, A.ACCEPT, Role.CUSTOMER) is S.CLOSED
    assert move(S.AWAITING_REPRODUCTION, A.CLOSE_NO_RECURRENCE, reason="3 months quiet") is S.CLOSED


@pytest.mark.parametrize(("current", "action"), [
    (S.NEW, A.RESOLVE), (S.NEW, A.ACCEPT), (S.CLOSED, A.START), (S.CLOSED, A.REJECT),
    (S.AWAITING_CUSTOMER, A.RESOLVE), (S.RESOLVED, A.START), (S.IN_PROGRESS, A.ACCEPT),
])
def test_illegal_moves_are_refused_with_409(current: S, action: A) -> None:
    with pytest.raises(Refused) as refused:
        move(current, action, Role.ADMIN, reason="r", assignee="e")
    assert refused.value.status == 409


def test_preconditions_of_moves() -> None:
    with pytest.raises(Refused, match="needs a reason"):
        move(S.RESOLVED, A.REJECT, Role.CUSTOMER)
    with pytest.raises(Refused, match="needs an assignee"):
        move(S.NEW, A.ASSIGN)
    with pytest.raises(Refused, match="record the resolution"):
        move(S.IN_PROGRESS, A.RESOLVE, Role.ENGINEER, resolved=False)
    with pytest.raises(Refused, match="a customer cannot resolve"):
        move(S.IN_PROGRESS, A.RESOLVE, Role.CUSTOMER)
    with pytest.raises(Refused, match="only with assign"):  # no reassigning through another move
        move(S.AWAITING_CUSTOMER, A.CUSTOMER_REPLIED, Role.CUSTOMER, assignee="someone")


def test_who_sees_a_case() -> None:
    org, other = uuid.uuid4(), uuid.uuid4()
    customer = Actor(username="c", role=Role.CUSTOMER, organisation_id=org)
    assert access.may_see_case(customer, org, None, None)
    assert not access.may_see_case(customer, other, None, None)
    engineer = Actor(username="e", role=Role.ENGINEER, region="north")
    assert access.may_see_case(engineer, other, "north", None)
    assert access.may_see_case(engineer, other, "south", "e")
    assert not access.may_see_case(engineer, other, "south", "someone else")
    assert not access.may_see_case(Actor(username="v", role=Role.VENDOR), org, None, None)
    assert not access.sees_internal(customer) and access.sees_internal(engineer)


def test_case_numbers_are_zero_padded_per_year() -> None:
    assert case_number(2026, 123) == "2026-000123"
    assert case_number(2027, 1234567) == "2027-1234567"
