"""``edgevoice keys create|list|revoke``: tenants' API keys in the servers' store."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys

from ..cluster.redisconn import connect
from ..signalling.keys import RedisKeys, new_key


def add_cli(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "keys",
        help="create, list and revoke tenants' API keys (in Redis)",
        description="Tenants' API keys, kept hashed in the Redis the servers use "
        "(--redis-url or EDGEVOICE_REDIS_URL). EDGEVOICE_API_KEY stays the default tenant's.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--redis-url",
        default=os.environ.get("EDGEVOICE_REDIS_URL"),
        help="the servers' Redis [EDGEVOICE_REDIS_URL]",
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    create = verbs.add_parser("create", parents=[common], help="a new key (printed once)")
    create.add_argument("--tenant", required=True)
    verbs.add_parser("list", parents=[common], help="id, tenant, hint, created, revoked")
    revoke = verbs.add_parser("revoke", parents=[common], help="revoke a key by its id")
    revoke.add_argument("key_id")
    p.set_defaults(handler=run)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


async def _run(args: argparse.Namespace) -> int:
    client = connect(args.redis_url)
    keys = RedisKeys(client)
    try:
        if args.verb == "create":
            key, record = new_key(args.tenant)
            await keys.add(key, record)
            if args.json:
                print(json.dumps({"key": key, **record.model_dump()}))
            else:
                print(f"{key}\n(key {record.id} for tenant {record.tenant}: shown only now)")
        elif args.verb == "list":
            records = await keys.list()
            if args.json:
                print(json.dumps([r.model_dump() for r in records]))
            else:
                print(f"{'id':18} {'tenant':20} {'hint':12} {'created':21} revoked")
                for r in records:
                    print(f"{r.id:18} {r.tenant:20} {r.hint + '…':12} "
                          f"{_when(r.created_at):21} {_when(r.revoked_at)}")  # fmt: skip
        else:
            revoked = await keys.revoke(args.key_id)
            if revoked is None:
                print(f"edgevoice keys: no key {args.key_id}", file=sys.stderr)
                return 1
            print(f"revoked {revoked.id} (tenant {revoked.tenant})")
        return 0
    finally:
        await client.aclose()


def run(args: argparse.Namespace) -> int:
    if not args.redis_url:
        print("edgevoice keys: needs --redis-url or EDGEVOICE_REDIS_URL (the Redis the "
              "servers use); a single in-memory serve has only EDGEVOICE_API_KEY",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        return asyncio.run(_run(args))
    except ValueError as exc:
        print(f"edgevoice keys: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"edgevoice keys: Redis at {args.redis_url} cannot be reached: {exc}",
              file=sys.stderr)  # fmt: skip
        return 1
