"""Signed JWTs (HS256): short-lived access tokens and longer refresh tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ISSUER = "servicedesk-gateway"


class TokenError(Exception):
    pass


def issue(secret: str, subject: str, kind: str, lifetime: timedelta, actor: dict[str, Any] | None = None,
          now: datetime | None = None) -> str:
    """`actor` (role, organisation, region) rides in access tokens, so requests need no lookup."""
    now = now or datetime.now(UTC)
    claims = {"iss": ISSUER, "sub": subject, "typ": kind, "iat": now, "nbf": now, "exp": now + lifetime,
              "jti": str(uuid.uuid4()), **({"actor": actor} if actor else {})}
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(secret: str, token: str, kind: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "typ"]})
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("the token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("the token is not valid") from exc
    if claims["typ"] != kind:
        raise TokenError(f"a {claims['typ']} token cannot be used here")
    return claims
