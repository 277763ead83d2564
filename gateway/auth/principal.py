"""Who is calling: a bearer JWT (people) or an API key (machine clients). Every route but the probes
depends on one of these; `require(...)` names the roles an endpoint admits."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from contracts.intake import Actor, Role

from .. import store
from .tokens import TokenError, verify

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False,
                              description="Access token from POST /auth/token (OAuth2 password flow).")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key of a machine client.")

_API_KEY_CACHE_S = 30.0
_api_key_cache: dict[str, tuple[float, Actor]] = {}


@functools.lru_cache(maxsize=10_000)
def _verified_access(secret: str, token: str) -> tuple[float, Actor]:
    """A token's signature and claims cannot change, and checking them was the largest cost of a
    cached read: each of the most recent 10,000 valid tokens is checked once (a refused token
    raises, and is not remembered)."""
    claims = verify(secret, token, "access")
    return float(claims["exp"]), Actor.model_validate(claims["actor"])


def unauthorised(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def actor_of(user: store.User) -> Actor:
    return Actor(username=user.username, role=Role(user.role), organisation_id=user.organisation_id,
                 region=user.region)


def token_actor(secret: str, token: str) -> Actor:
    """The actor of a valid access token that has not expired; TokenError otherwise."""
    expires, actor = _verified_access(secret, token)
    if time.time() >= expires:  # a verified token is remembered: its expiry is checked each time
        raise TokenError("the token has expired")
    return actor


async def current_actor(request: Request, token: str | None = Depends(oauth2),
                        api_key: str | None = Depends(api_key_header)) -> Actor:
    settings = request.app.state.settings
    if token:
        try:
            return token_actor(settings.jwt_secret.get_secret_value(), token)
        except TokenError as exc:
            raise unauthorised(str(exc)) from exc
    if api_key:
        key = store.key_hash(api_key)
        cached = _api_key_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] <= _API_KEY_CACHE_S:
            return cached[1]
        user = await run_in_threadpool(store.find_api_key_user, request.app.state.engine, api_key)
        if user is None or not user.active:
            raise unauthorised("unknown or revoked API key")  # misses are not cached: no unbounded growth
        if len(_api_key_cache) >= 10_000:
            _api_key_cache.clear()
        _api_key_cache[key] = (time.monotonic(), actor_of(user))
        return _api_key_cache[key][1]
    raise unauthorised("authentication required: a bearer token or an X-API-Key header")


def require(*roles: Role) -> Callable:
    allowed = set(roles)

    async def dependency(actor: Actor = Depends(current_actor)) -> Actor:
        if actor.role not in allowed:
            raise HTTPException(403, f"a {actor.role.value} may not do this")
        return actor

    return dependency
