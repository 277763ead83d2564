"""Sign-in (OAuth2 password flow), token refresh, and who am I."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from contracts.intake import Actor

from .. import store
from ..auth.passwords import verify_password
from ..auth.principal import actor_of, current_actor, unauthorised
from ..auth.tokens import TokenError, issue, verify
from ..problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/auth", tags=["authentication"])


class Tokens(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class Refresh(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=4096)


def tokens_for(request: Request, user: store.User) -> Tokens:
    s = request.app.state.settings
    secret = s.jwt_secret.get_secret_value()
    actor = actor_of(user).model_dump(mode="json")
    return Tokens(
        access_token=issue(secret, user.username, "access", timedelta(minutes=s.access_token_minutes), actor),
        refresh_token=issue(secret, user.username, "refresh", timedelta(days=s.refresh_token_days)),
        expires_in=s.access_token_minutes * 60)


@router.post("/token", response_model=Tokens, responses=PROBLEM_RESPONSES,
             summary="Sign in with username and password (OAuth2 password flow)")
async def token(request: Request, form: OAuth2PasswordRequestForm = Depends()) -> Tokens:
    if "\x00" in form.username or "\x00" in form.password or len(form.username) > 128:
        raise unauthorised("wrong username or password")  # no such account can exist
    user = await run_in_threadpool(store.find_user, request.app.state.engine, form.username)
    valid = await run_in_threadpool(verify_password, user.password_hash if user else None, form.password)
    if not valid or user is None or not user.active:
        raise unauthorised("wrong username or password")
    return tokens_for(request, user)


@router.post("/refresh", response_model=Tokens, responses=PROBLEM_RESPONSES,
             summary="Exchange a refresh token for new tokens (the account must still be active)")
async def refresh(request: Request, body: Refresh) -> Tokens:
    try:
        claims = verify(request.app.state.settings.jwt_secret.get_secret_value(), body.refresh_token, "refresh")
    except TokenError as exc:
        raise unauthorised(str(exc)) from exc
    user = await run_in_threadpool(store.find_user, request.app.state.engine, claims["sub"])
    if user is None or not user.active:
        raise unauthorised("the account is no longer active")
    return tokens_for(request, user)


@router.get("/me", response_model=Actor, responses=PROBLEM_RESPONSES, summary="The authenticated principal")
async def me(actor: Actor = Depends(current_actor)) -> Actor:
    return actor
