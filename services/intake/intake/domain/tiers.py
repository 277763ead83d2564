"""The tier suggestion from structured impact data (domain: "Severity tiers", classification hints).

An agent can always override; this only proposes.
"""

from __future__ import annotations

from contracts.cases import Tier
from contracts.intake import CaseType, Impact

# P1 hints: > 50 users or >= 10 % of users unable to work; >= 30 % of trunk routes out of control;
# two or more automatic restarts; power failure.
P1_USERS = 50
P1_SHARE_OF_USERS_PCT = 10
P1_SHARE_OF_TRUNKS_PCT = 30
P1_RESTARTS = 2


def suggest_tier(impact: Impact, case_type: CaseType) -> tuple[Tier, str]:
    """The suggested tier and the hint that decided it."""
    if case_type in (CaseType.REQUEST, CaseType.INSPECTION):
        return Tier.P4, f"{case_type.value}: routine work"
    if impact.users_affected is not None and impact.users_affected > P1_USERS:
        return Tier.P1, f"{impact.users_affected} users affected (> {P1_USERS})"
    if impact.share_of_users_pct is not None and impact.share_of_users_pct >= P1_SHARE_OF_USERS_PCT:
        return Tier.P1, f"{impact.share_of_users_pct:g} % of users affected (>= {P1_SHARE_OF_USERS_PCT} %)"
    if impact.share_of_trunks_pct is not None and impact.share_of_trunks_pct >= P1_SHARE_OF_TRUNKS_PCT:
        return Tier.P1, f"{impact.share_of_trunks_pct:g} % of trunk routes out of control (>= 30 %)"
    if impact.restart_count is not None and impact.restart_count >= P1_RESTARTS:
        return Tier.P1, f"{impact.restart_count} automatic restarts (>= {P1_RESTARTS})"
    if impact.power_failure:
        return Tier.P1, "power failure"
    if impact.key_users_affected:
        return Tier.P2, "key users affected (attendant console, VIP or call-centre)"
    if impact.severe_degradation:
        return Tier.P2, "severe performance degradation"
    return Tier.P3, "no critical or urgent impact given"
