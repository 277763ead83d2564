"""Administration from the command line (database URL and JWT secret from the environment).

    python -m gateway.admin create-organisation --name "Acme Telecom"
    python -m gateway.admin create-user --username li --role agent [--organisation NAME] [--region R]
    python -m gateway.admin create-admin --username root            # the first administrator
    python -m gateway.admin create-api-key --username monitor --name zabbix
    python -m gateway.admin revoke-api-key --username monitor --name zabbix   # refused within 30 s
    python -m gateway.admin mint-token --username li [--minutes 60]  # for scripts
    python -m gateway.admin deactivate-user --username li   # sign-in and refresh refused at once

Passwords are read from standard input (one line) or the environment variable SD_NEW_PASSWORD;
never from the command line, where other users could read them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from datetime import timedelta

from sqlalchemy import create_engine

from contracts.intake import Role

from . import store
from .auth.passwords import hash_password
from .auth.principal import actor_of
from .auth.tokens import issue
from .settings import GatewaySettings


def _password() -> str:
    password = os.environ.get("SD_NEW_PASSWORD") or sys.stdin.readline().rstrip("\n")
    if len(password) < 10:
        raise SystemExit("a password has at least 10 characters")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create-organisation").add_argument("--name", required=True)
    user = sub.add_parser("create-user")
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=[r.value for r in Role])
    user.add_argument("--organisation")
    user.add_argument("--region")
    sub.add_parser("create-admin").add_argument("--username", required=True)
    key = sub.add_parser("create-api-key")
    key.add_argument("--username", required=True)
    key.add_argument("--name", required=True)
    revoke = sub.add_parser("revoke-api-key")
    revoke.add_argument("--username", required=True)
    revoke.add_argument("--name", required=True)
    sub.add_parser("deactivate-user").add_argument("--username", required=True)
    mint = sub.add_parser("mint-token")
    mint.add_argument("--username", required=True)
    mint.add_argument("--minutes", type=int, default=60)
    args = parser.parse_args(argv)

    settings = GatewaySettings()
    engine = create_engine(settings.database_url)
    if args.command == "create-organisation":
        print(store.ensure_organisation(engine, args.name))
    elif args.command in ("create-user", "create-admin"):
        role = "admin" if args.command == "create-admin" else args.role
        organisation = store.ensure_organisation(engine, args.organisation) if getattr(args, "organisation", None) \
            else None
        if role == "customer" and organisation is None:
            raise SystemExit("a customer belongs to an organisation: give --organisation")
        print(store.upsert_user(engine, args.username, hash_password(_password()), role, organisation,
                                getattr(args, "region", None)))
    elif args.command == "create-api-key":
        found = store.find_user(engine, args.username)
        if found is None:
            raise SystemExit(f"no user {args.username}")
        raw = "sdk_" + secrets.token_urlsafe(32)
        store.create_api_key(engine, found.id, args.name, raw)
        print(raw)  # shown once; only its hash is stored
    elif args.command == "revoke-api-key":
        found = store.find_user(engine, args.username)
        revoked = store.revoke_api_keys(engine, found.id, args.name) if found else 0
        if not revoked:
            raise SystemExit(f"no active API key {args.name!r} of {args.username}")
        print(f"revoked {revoked} key(s)")
    elif args.command == "deactivate-user":
        if store.find_user(engine, args.username) is None:
            raise SystemExit(f"no user {args.username}")
        store.deactivate_user(engine, args.username)
        print(f"deactivated {args.username}; access tokens already issued expire within "
              f"{settings.access_token_minutes} minutes")
    elif args.command == "mint-token":
        found = store.find_user(engine, args.username)
        if found is None or not found.active:
            raise SystemExit(f"no active user {args.username}")
        print(issue(settings.jwt_secret.get_secret_value(), found.username, "access",
                    timedelta(minutes=args.minutes), actor_of(found).model_dump(mode="json")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
