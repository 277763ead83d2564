"""Operators' commands for the SLA engine's data, run against its database (`SD_DATABASE_URL`):

    python -m sla.admin load-year china-5x8 notice-2027.yaml    # a year's holidays and make-up days
    python -m sla.admin show-year china-5x8 2027
    python -m sla.admin publish-policy gold.yaml                 # the next version of a policy
    python -m sla.admin attach K-2026-01 gold [--calendar china-5x8]

A year file holds `year`, `source`, `holidays` and `makeup_days` (YAML or JSON; see
`contracts.sla_api.YearNotice`). Loading a year adds a version (earlier ones are kept) and gives
every open clock on that calendar its new deadline. Running replicas see it within
`SD_CALENDAR_CACHE_TTL_S` seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from contracts.sla_api import ContractTerms, YearNotice
from contracts.sla_policy import Policy
from servicekit.db import UnitOfWork, make_engine
from servicekit.problems import Refused

from . import queries
from .adapters.catalogue import Catalogue
from .settings import SlaSettings

OPERATOR = "sla.admin"


def _document(path: str) -> dict:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected a mapping at the top level")
    return data


def _print(data: object) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sla.admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load-year", help="load or correct a year of a calendar from a file ('-': stdin)")
    load.add_argument("calendar")
    load.add_argument("file")
    show = commands.add_parser("show-year", help="a year of a calendar, every version")
    show.add_argument("calendar")
    show.add_argument("year", type=int)
    publish = commands.add_parser("publish-policy", help="publish a policy file as its name's next version")
    publish.add_argument("file")
    attach = commands.add_parser("attach", help="attach a policy (and calendar) to a contract")
    attach.add_argument("contract_id")
    attach.add_argument("policy")
    attach.add_argument("--calendar", default="china-5x8")
    args = parser.parse_args(argv)

    settings = SlaSettings()
    engine = make_engine(settings.database_url, 1)
    db, catalogue = UnitOfWork(engine, "sla"), Catalogue(0)
    try:
        with db.transaction(correlation_id=OPERATOR) as tx:
            if args.command == "load-year":
                notice = YearNotice.model_validate(_document(args.file))
                _print(queries.load_calendar_year(tx, catalogue, args.calendar, notice, OPERATOR, datetime.now(UTC)))
            elif args.command == "show-year":
                _print(queries.calendar_year(tx, args.calendar, args.year))
            elif args.command == "publish-policy":
                body = _document(args.file)
                _print(queries.publish_policy(tx, Policy.model_validate({**body, "version": 1}), OPERATOR)
                       .model_dump(mode="json"))
            else:
                terms = ContractTerms(policy=args.policy, calendar=args.calendar)
                _print(queries.set_contract_terms(tx, catalogue, args.contract_id, terms, OPERATOR, datetime.now(UTC)))
    except ValidationError as exc:
        print(f"invalid input: {exc}", file=sys.stderr)
        return 2
    except Refused as refusal:
        print(f"refused: {refusal.detail}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
