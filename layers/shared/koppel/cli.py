"""`koppel`: manage accounts and links, and see what happened, on a deployed stack or the local one.

koppel --stack koppel account list          # a deployed stack (reads its CloudFormation outputs)
koppel --local link show bol-to-shopify     # the local runtime (`make local` / `make demo`)
koppel systems                              # which system can do what (no stack needed)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from koppel import aws, wiring
from koppel.config import Flow, LinkMode
from koppel.errors import ConfigurationError, KoppelError, UnknownAccount, UnknownLink
from koppel.flows import configure
from koppel.flows.feed import feed_token
from koppel.ports.orders import OrderState, SkuMapping

OUTPUT_ENV = {
    "KoppelTableName": "KOPPEL_TABLE",
    "IdempotencyTableName": "IDEMPOTENCY_TABLE",
    "EventQueueUrl": "EVENT_QUEUE_URL",
    "FeedBucketName": "FEED_BUCKET",
    "FeedSigningSecretArn": "FEED_SIGNING_SECRET",
}


def local_state_file() -> Path:
    return Path(os.environ.get("KOPPEL_LOCAL_STATE", ".koppel-local/state.json"))


def target(args: argparse.Namespace) -> dict[str, Any]:
    """Point koppel's adapters at the chosen stack; returns its outputs."""
    if args.local:
        path = local_state_file()
        if not path.is_file():
            raise SystemExit(f"no local runtime found ({path}); start one with `make local`")
        state = json.loads(path.read_text())
        os.environ.update({"AWS_ENDPOINT_URL": state["endpoint"], "AWS_DEFAULT_REGION": state["region"]})
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        outputs = state["outputs"] | {"ApiUrl": state.get("http_url", "")}
    else:
        stacks = aws.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    os.environ.update({env: outputs[key] for key, env in OUTPUT_ENV.items() if key in outputs})
    wiring.reset()
    return outputs


def _pairs(values: Sequence[str]) -> dict[str, Any]:
    """key=value pairs; dotted keys nest (orders.tag=x), JSON values are parsed (buffer=2, on=true)."""
    result: dict[str, Any] = {}
    for pair in values:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise SystemExit(f"expected key=value, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = result
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return result


def merged(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """`given` over `stored`, nested objects merged key by key: a put changes only what it names."""
    result = dict(stored)
    for key, value in given.items():
        result[key] = (
            merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
        )
    return result


def _load(path: str | None) -> dict[str, Any]:
    return json.loads(Path(path).read_text()) if path else {}


def _print(value: Any, as_json: bool) -> None:
    if as_json or not isinstance(value, list):
        print(json.dumps(value, indent=2, default=str))
        return
    for row in value:
        print("  ".join(str(cell) for cell in row))


def _put_data(args: argparse.Namespace, read: Any, unknown: type[KoppelError]) -> dict[str, Any]:
    """What a `put` saves: the given fields merged into the stored object, unless --replace."""
    data = _load(args.file) | _pairs(args.values)
    if args.replace:
        return data
    try:
        stored = read(data.get(f"{args.command}_id", ""))
    except unknown:
        return data
    return merged(stored.model_dump(mode="json"), data)


# --- commands -----------------------------------------------------------------------------------
def cmd_systems(args: argparse.Namespace) -> None:
    from koppel.connectors import matrix

    if args.json:
        print(json.dumps(matrix.rows(), indent=2))
    else:
        print(matrix.text(), end="")


def account_help() -> str:
    """Per system, from its declaration: what it can be, the settings it takes, the secret's keys."""
    from koppel.connectors import registry

    lines = ["systems (settings.<field>=…; secret keys go in `koppel account secret ID key=value`):"]
    for spec in registry.systems().values():
        roles = "+".join(role.value for role in spec.roles)
        lines.append(f"  {spec.name:<13} {spec.title} [{roles}]")
        if spec.settings is not None:
            fields = ", ".join(
                name + ("" if field.is_required() else "?") for name, field in spec.settings.model_fields.items()
            )
            lines.append(f"  {'':<13} settings: {fields}")
        keys = [*spec.credentials, *(f"{key}?" for key in spec.optional_credentials)]
        if keys:
            lines.append(f"  {'':<13} secret: {', '.join(keys)}")
        if spec.webhooks is not None:
            lines.append(f"  {'':<13} webhooks signed by: {spec.webhooks.scheme}")
    lines.append("  (? = optional)")
    return "\n".join(lines)


def cmd_account(args: argparse.Namespace) -> None:
    store = wiring.config_store()
    if args.action == "put":
        account = configure.save_account(store, _put_data(args, store.get_account, UnknownAccount))
        print(f"account {account.account_id} saved ({account.system})")
    elif args.action == "list":
        rows = [[a.account_id, a.system, a.name, "sandbox" if a.sandbox else "live"] for a in store.list_accounts()]
        _print(rows, args.json)
    elif args.action == "show":
        _print(store.get_account(args.id).model_dump(mode="json"), True)
    elif args.action == "delete":
        configure.remove_account(store, args.id)
        print(f"account {args.id} deleted")
    elif args.action == "secret":
        account = store.get_account(args.id)
        given = _load(args.file) | _pairs(args.values)
        sm = aws.client("secretsmanager")
        try:
            stored = json.loads(sm.get_secret_value(SecretId=account.secret_ref)["SecretString"])
        except sm.exceptions.ResourceNotFoundException:
            sm.create_secret(Name=account.secret_ref, SecretString=json.dumps(given))
        else:
            value = given if args.replace else stored | given
            sm.put_secret_value(SecretId=account.secret_ref, SecretString=json.dumps(value))
        # Key names only: the values never reach a terminal or a log.
        print(f"credentials stored in Secrets Manager as {account.secret_ref}: {', '.join(sorted(given))} set")


def cmd_link(args: argparse.Namespace) -> None:
    store = wiring.config_store()
    if args.action == "put":
        link = configure.save_link(store, _put_data(args, store.get_link, UnknownLink))
        print(f"link {link.link_id} saved: {link.backoffice} <- {link.channel} ({link.mode.value})")
    elif args.action == "list":
        rows = [
            [
                lk.link_id,
                lk.backoffice,
                lk.channel,
                lk.mode.value,
                ",".join(f.value for f in Flow if lk.flows.enabled(f)),
            ]
            for lk in store.list_links()
        ]
        _print(rows, args.json)
    elif args.action == "show":
        _print(store.get_link(args.id).model_dump(mode="json"), True)
    elif args.action == "delete":
        store.delete_link(args.id)
        print(f"link {args.id} deleted")
    elif args.action in ("on", "off"):
        for name in args.values:
            configure.switch_flow(store, args.id, Flow(name), args.action == "on")
        print(f"link {args.id}: {', '.join(args.values)} switched {args.action}")
    elif args.action == "mode":
        link = configure.set_mode(store, args.id, LinkMode(args.values[0]))
        print(f"link {link.link_id} now in {link.mode.value} mode")


def cmd_activity(args: argparse.Namespace) -> None:
    entries = wiring.activity_log().recent(args.subject, limit=args.limit)
    if args.json:
        _print([e.__dict__ for e in entries], True)
        return
    for entry in entries:
        print(f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.kind:<24} {entry.message}")


def cmd_mapping(args: argparse.Namespace) -> None:
    mappings = wiring.sku_mappings()
    wiring.config_store().get_link(args.link)  # an unknown link is an error, not an empty list
    if args.action == "set":
        if len(args.values) != 2:
            raise SystemExit("mapping set LINK CHANNEL_SKU BACKOFFICE_VARIANT_ID")
        mappings.put(args.link, SkuMapping(channel_sku=args.values[0], variant_id=args.values[1], source="manual"))
        print(f"{args.values[0]} -> {args.values[1]} (manual; wins over automatic matches)")
    elif args.action == "delete":
        mappings.delete(args.link, args.values[0])
        print(f"mapping for {args.values[0]} deleted")
    else:
        _print([[m.channel_sku, m.variant_id, m.source] for m in mappings.all(args.link)], args.json)


def cmd_orders(args: argparse.Namespace) -> None:
    records = wiring.order_links().in_state(args.link, OrderState(args.state))
    if args.json:
        _print([r.__dict__ for r in records], True)
        return
    for record in records:
        where = record.backoffice_name or record.backoffice_order_id
        print(f"{record.channel_order_id:<14} {record.state.value:<16} {where:<12} {record.reason}")


def cmd_parked(args: argparse.Namespace) -> None:
    entries = wiring.parked_deliveries().waiting(args.link)
    if args.json:
        _print([{"reason": reason, **envelope.model_dump(mode="json")} for envelope, reason in entries], True)
        return
    for envelope, reason in entries:
        print(f"{envelope.received_at:%Y-%m-%d %H:%M:%S}  {envelope.topic:<20} {envelope.event_id:<38} {reason}")


def cmd_stock(args: argparse.Namespace) -> None:
    """What koppel holds of each SKU for the link, what the channel last accepted, and why not."""
    from koppel.flows.stock import sellable

    link = wiring.config_store().get_link(args.link)
    records = [record for record in wiring.stock_store().all(link.link_id) if not args.sku or record.sku == args.sku]
    if args.json:
        _print(
            [{**record.__dict__, "levels": {k: v.__dict__ for k, v in record.levels.items()}} for record in records],
            True,
        )
        return
    for record in records:
        state = "pending" if record.pending else (f"refused: {record.push_error}" if record.push_error else "pushed")
        warehouses = ", ".join(
            f"{name or '-'}:{level.on_hand}/{level.backorders}" for name, level in record.levels.items()
        )
        print(
            f"{record.sku:<24} sell {sellable(link.stock, record.quantity):>5}  channel has {record.pushed!s:>5}  "
            f"{state}  (on hand/backorders {warehouses}; as of {record.observed_at})"
        )


def cmd_feed_url(args: argparse.Namespace, outputs: dict[str, Any]) -> None:
    link = wiring.config_store().get_link(args.link)
    token = feed_token(wiring.feed_signing_key(), link.link_id)
    print(f"{outputs.get('ApiUrl', '<ApiUrl>').rstrip('/')}/feeds/{link.link_id}?token={token}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="koppel", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    where = root.add_mutually_exclusive_group()
    where.add_argument("--stack", default=os.environ.get("KOPPEL_STACK", "koppel"), help="deployed stack name")
    where.add_argument("--local", action="store_true", help="the local runtime started by `make local`")
    root.add_argument("--json", action="store_true", help="machine-readable output")
    sub = root.add_subparsers(dest="command", required=True)

    account = sub.add_parser(
        "account",
        help="external systems: put/list/show/delete/secret",
        epilog=account_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    account.add_argument("action", choices=["put", "list", "show", "delete", "secret"])
    account.add_argument("id", nargs="?")
    account.add_argument("values", nargs="*", help="key=value settings (dotted keys nest)")
    account.add_argument("--file", help="JSON file with the account (or, for `secret`, the credentials)")
    account.add_argument("--replace", action="store_true", help="replace what is stored instead of merging into it")

    link = sub.add_parser("link", help="backoffice <-> channel links: put/list/show/delete/on/off/mode")
    link.add_argument("action", choices=["put", "list", "show", "delete", "on", "off", "mode"])
    link.add_argument("id", nargs="?")
    link.add_argument("values", nargs="*", help="key=value settings, flow names for on/off, live|test for mode")
    link.add_argument("--file", help="JSON file with the link")
    link.add_argument("--replace", action="store_true", help="replace what is stored instead of merging into it")

    activity = sub.add_parser("activity", help="recent activity of a link or account")
    activity.add_argument("subject")
    activity.add_argument("--limit", type=int, default=30)

    mapping = sub.add_parser("mapping", help="channel SKU -> backoffice variant: list/set/delete")
    mapping.add_argument("action", choices=["list", "set", "delete"])
    mapping.add_argument("link")
    mapping.add_argument("values", nargs="*")

    orders = sub.add_parser("orders", help="a link's imported orders by state (default: needs_attention)")
    orders.add_argument("link")
    orders.add_argument("--state", default="needs_attention", choices=[s.value for s in OrderState])

    parked = sub.add_parser("parked", help="deliveries accepted but waiting for a flow koppel does not run yet")
    parked.add_argument("link")

    stock = sub.add_parser("stock", help="a link's stock per SKU: held, sold on the channel, pending or refused")
    stock.add_argument("link")
    stock.add_argument("--sku", default="")

    feed = sub.add_parser("feed-url", help="the URL a marketplace fetches a link's feed from")
    feed.add_argument("link")

    systems = sub.add_parser("systems", help="every system koppel knows and which flows it can take part in")
    systems.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "systems":  # the declarations in this install; no stack needed
        cmd_systems(args)
        return 0
    if args.command in ("account", "link") and args.action not in ("list",) and not args.id and not args.file:
        parser().error(f"{args.command} {args.action} needs an id")
    if args.command in ("account", "link") and args.action == "put" and args.id:
        args.values = [f"{args.command}_id={args.id}", *args.values]
    outputs = target(args)
    try:
        if args.command == "account":
            cmd_account(args)
        elif args.command == "link":
            cmd_link(args)
        elif args.command == "activity":
            cmd_activity(args)
        elif args.command == "mapping":
            cmd_mapping(args)
        elif args.command == "orders":
            cmd_orders(args)
        elif args.command == "parked":
            cmd_parked(args)
        elif args.command == "stock":
            cmd_stock(args)
        elif args.command == "feed-url":
            cmd_feed_url(args, outputs)
    except ConfigurationError as exc:
        where = f"{exc.field}: " if exc.field and not exc.message.startswith(exc.field) else ""
        print(f"error: {where}{exc.message}", file=sys.stderr)
        return 2
    except KoppelError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
