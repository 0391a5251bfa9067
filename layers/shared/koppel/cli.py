"""`koppel`: manage accounts and links, and see what happened, on a deployed stack or the local one.

koppel --stack koppel account list          # a deployed stack (reads its CloudFormation outputs)
koppel --local link show bol-to-shopify     # the local runtime (`make local` / `make demo`)
koppel systems                              # which system can do what (no stack needed)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from koppel import aws, wiring
from koppel.config import Flow, LinkMode
from koppel.connectors import registry
from koppel.errors import ConfigurationError, KoppelError, NotFound, UnknownAccount, UnknownLink
from koppel.flows import configure
from koppel.flows.feed import feed_token
from koppel.operations import DEAD_LETTER_QUEUES
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
            raise UsageError(f"no local runtime found ({path}); start one with `make local`")
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
            raise UsageError(f"expected key=value, got {pair!r}")
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


class UsageError(Exception):
    """A wrong use of the command: reported in one line with the sub-command's usage, exit code 2."""


class Parser(argparse.ArgumentParser):
    """Help keeps its line breaks (the examples); a wrong use is one line plus the usage, exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """What was wrong on one line, then how this (sub-)command is used."""
        self._print_message(f"error: {message}\n", sys.stderr)
        self.print_usage(sys.stderr)
        raise Done(2)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        # Returned by main() rather than exiting, so the demo (and tests) can run the CLI in-process.
        if message:
            self._print_message(message, sys.stderr)
        raise Done(status)


class Done(Exception):  # not an error: the command ended with this exit code
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> None:
    """Rows under their headers, each column as wide as its widest cell; `right` columns are numbers."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        line = "  ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row))
        print(line.rstrip())


def _listing(
    args: argparse.Namespace,
    records: list[dict[str, Any]],
    headers: Sequence[str],
    rows: list[list[Any]],
    right: Sequence[int] = (),
    empty: str = "nothing to show",
) -> None:
    """A listing: JSON with --json, else a table for a person (or one line saying there is nothing)."""
    if args.json:
        _print_json(records)
    elif rows:
        _table(headers, rows, right)
    else:
        print(empty)


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
        accounts = store.list_accounts()
        _listing(
            args,
            [a.model_dump(mode="json") for a in accounts],
            ["ACCOUNT", "SYSTEM", "NAME", "MODE"],
            [[a.account_id, a.system, a.name, "sandbox" if a.sandbox else "live"] for a in accounts],
            empty="no accounts yet: add one with `koppel account put ID system=…`",
        )
    elif args.action == "show":
        _print_json(store.get_account(args.id).model_dump(mode="json"))
    elif args.action == "delete":
        store.get_account(args.id)  # an unknown account is an error, not a deletion
        configure.remove_account(store, args.id)
        print(f"account {args.id} deleted")
    elif args.action == "secret":
        account = store.get_account(args.id)
        given = _load(args.file) | _pairs(args.values)
        if not given:
            raise UsageError("give the credentials as key=value pairs or --file")
        _store_secret(account.secret_ref, given, replace=args.replace)
        # Key names only: the values never reach a terminal or a log.
        print(f"credentials stored in Secrets Manager as {account.secret_ref}: {', '.join(sorted(given))} set")


def _stored_secret(secret_ref: str) -> dict[str, Any] | None:
    sm = aws.client("secretsmanager")
    try:
        return json.loads(sm.get_secret_value(SecretId=secret_ref)["SecretString"])
    except sm.exceptions.ResourceNotFoundException:
        return None


def _store_secret(secret_ref: str, given: dict[str, Any], *, replace: bool = False) -> None:
    sm = aws.client("secretsmanager")
    stored = _stored_secret(secret_ref)
    if stored is None:
        sm.create_secret(Name=secret_ref, SecretString=json.dumps(given))
    else:
        sm.put_secret_value(SecretId=secret_ref, SecretString=json.dumps(given if replace else stored | given))


def cmd_webhook_url(args: argparse.Namespace, outputs: dict[str, Any]) -> None:
    """The address an account's system sends its webhooks to. For a system that signs nothing the
    address carries the account's webhook secret; for one that sends a token koppel gives it (StoreKeeper's
    hook token) the token is printed with the address. Either is made here when there is none (or with
    --new, the old one kept as previous_webhook_secret until the sender uses the new one)."""
    account = wiring.config_store().get_account(args.id)
    webhooks = registry.spec(account.system).webhooks
    if webhooks is None:
        raise UsageError(f"{account.system} sends koppel no webhooks; koppel reads it by its API")
    base = f"{outputs.get('ApiUrl', '<ApiUrl>').rstrip('/')}/webhooks/{account.account_id}"
    if not webhooks.secret_in_url and not webhooks.token_header:
        print(base)
        return
    stored = _stored_secret(account.secret_ref) or {}
    current = str(stored.get("webhook_secret") or "")
    if args.new or not current:
        fresh = {"webhook_secret": secrets.token_urlsafe(32)}
        if current:
            fresh["previous_webhook_secret"] = current
        _store_secret(account.secret_ref, fresh)
        current = fresh["webhook_secret"]
    # Printed on purpose: the merchant enters it in the sender. A secret URL lets its holder make
    # koppel read an order again, nothing more; a hook token is checked on every hook.
    if webhooks.token_header:
        print(base)
        print(f"{webhooks.token_header}: {current}")
        return
    print(f"{base}/{current}")


# What starts at once when a link is saved, so a changed setting takes effect now rather than at the
# next schedule: its stock (the reconciliation) and its products (the product sync, balances with it).
RUN_NOW = {Flow.STOCK: "StockReconcilerFunction", Flow.PRODUCTS: "ProductSyncFunction"}


def cmd_link(args: argparse.Namespace) -> None:
    store = wiring.config_store()
    if args.action == "put":
        link = configure.save_link(store, _put_data(args, store.get_link, UnknownLink))
        print(f"link {link.link_id} saved: {link.backoffice} <- {link.channel} ({link.mode.value})")
        if not args.later:
            _run_now(args, link)
    elif args.action == "list":
        links = store.list_links()
        _listing(
            args,
            [lk.model_dump(mode="json") for lk in links],
            ["LINK", "BACKOFFICE", "CHANNEL", "MODE", "FLOWS ON", "SCHEDULE"],
            [
                [
                    lk.link_id,
                    lk.backoffice,
                    lk.channel,
                    lk.mode.value,
                    ",".join(f.value for f in Flow if lk.flows.enabled(f)),
                    "; ".join(f"{flow.value} {text}" for flow, text in lk.schedule.items()) or "default",
                ]
                for lk in links
            ],
            empty="no links yet: add one with `koppel link put ID backoffice=… channel=…`",
        )
    elif args.action == "show":
        _print_json(store.get_link(args.id).model_dump(mode="json"))
    elif args.action == "delete":
        store.get_link(args.id)  # an unknown link is an error, not a deletion
        store.delete_link(args.id)
        print(f"link {args.id} deleted")
    elif args.action in ("on", "off"):
        for name in args.flows:
            configure.switch_flow(store, args.id, Flow(name), args.action == "on")
        print(f"link {args.id}: {', '.join(args.flows)} switched {args.action}")
        if args.action == "on":
            _run_now(args, store.get_link(args.id), only={Flow(name) for name in args.flows})
    elif args.action == "mode":
        link = configure.set_mode(store, args.id, LinkMode(args.mode))
        print(f"link {link.link_id} now in {link.mode.value} mode")


def _run_now(args: argparse.Namespace, link: Any, only: set[Flow] | None = None) -> None:
    """Start the link's stock and product runs now (asynchronously in a stack, in-line in the local
    runtime); a run that cannot be started is left to its schedule, and says so."""
    wanted = [fn for flow, fn in RUN_NOW.items() if link.flows.enabled(flow) and (only is None or flow in only)]
    functions = sorted(set(wanted))
    for function in functions:
        try:
            if args.local:
                url = json.loads(local_state_file().read_text()).get("http_url", "")
                answer = httpx.post(f"{url}/_local/fire/{function}", json={"link_id": link.link_id}, timeout=900)
                answer.raise_for_status()
            else:
                resource = aws.client("cloudformation").describe_stack_resource(
                    StackName=args.stack, LogicalResourceId=function
                )["StackResourceDetail"]["PhysicalResourceId"]
                aws.client("lambda").invoke(
                    FunctionName=resource,
                    InvocationType="Event",
                    Payload=json.dumps({"source": "koppel.cli", "detail": {"link_id": link.link_id}}).encode(),
                )
        except (httpx.HTTPError, OSError, ValueError, BotoCoreError, ClientError) as exc:
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            print(f"  {function} not started now ({reason}); it runs for this link at its next schedule")
        else:
            print(f"  {function} started for link {link.link_id}: the saved settings take effect now")


def cmd_activity(args: argparse.Namespace) -> None:
    entries = wiring.activity_log().recent(args.subject, limit=args.limit + 1)
    cut = len(entries) > args.limit
    entries = entries[len(entries) - args.limit :] if cut else entries  # newest last: the oldest one goes
    notice = f"(only the newest {args.limit} shown; see more with --limit {args.limit * 4})"
    if args.json:
        _print_json([e.__dict__ for e in entries])
        if cut:
            print(notice, file=sys.stderr)  # stdout stays JSON
        return
    if not entries:
        print(f"no activity for {args.subject!r} (in the last 30 days)")
        return
    if cut:
        print(notice)
    for entry in entries:
        print(f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.kind:<24} {entry.message}")


def cmd_mapping(args: argparse.Namespace) -> None:
    mappings = wiring.sku_mappings()
    wiring.config_store().get_link(args.link)  # an unknown link is an error, not an empty list
    if args.action == "set":
        mappings.put(args.link, SkuMapping(channel_sku=args.channel_sku, variant_id=args.variant_id, source="manual"))
        print(f"{args.channel_sku} -> {args.variant_id} (manual; wins over automatic matches)")
    elif args.action == "delete":
        if mappings.get(args.link, args.channel_sku) is None:
            raise UsageError(f"no mapping for {args.channel_sku!r} on link {args.link!r}")
        mappings.delete(args.link, args.channel_sku)
        print(f"mapping for {args.channel_sku} deleted")
    else:
        found = mappings.all(args.link)
        _listing(
            args,
            [m.__dict__ for m in found],
            ["CHANNEL SKU", "BACKOFFICE VARIANT", "SOURCE"],
            [[m.channel_sku, m.variant_id, m.source] for m in found],
            empty=f"no SKU mappings on {args.link}",
        )


def cmd_orders(args: argparse.Namespace) -> None:
    if args.action == "accept":
        _accept_orders(args)
        return
    if args.action == "retry":
        _retry_orders(args)
        return
    if args.ids:
        raise UsageError(f"order ids go with an action: koppel orders {args.link} accept {' '.join(args.ids)}")
    records = wiring.order_links().in_state(args.link, OrderState(args.state))
    _listing(
        args,
        [r.__dict__ for r in records],
        ["CHANNEL ORDER", "STATE", "IN THE BACKOFFICE", "WHY"],
        [[r.channel_order_id, r.state.value, r.backoffice_name or r.backoffice_order_id, r.reason] for r in records],
        empty=f"no {args.state} orders on {args.link}",
    )


def _accept_orders(args: argparse.Namespace) -> None:
    """Orders a person accepts for booking (a link with `orders.auto_accept` off); the next poller run books them."""
    wiring.config_store().get_link(args.link)  # an unknown link is an error, not nothing accepted
    if not args.ids:
        raise UsageError(f"name the orders to accept: koppel orders {args.link} accept ORDER [ORDER ...]")
    links = wiring.order_links()
    unknown = [order_id for order_id in args.ids if not links.accept(args.link, order_id)]
    accepted = [order_id for order_id in args.ids if order_id not in unknown]
    if accepted:
        print(f"accepted {', '.join(accepted)}: booked in the backoffice by the next order poller run")
    if unknown:
        raise NotFound(f"no order waiting on {args.link} as {', '.join(unknown)} (see `koppel orders {args.link}`)")


def _retry_orders(args: argparse.Namespace) -> None:
    """Waiting orders tried again now, one by one, through the order poller's own flow."""
    from koppel.operations import retry_outcome

    link = wiring.config_store().get_link(args.link)  # an unknown link is an error, not nothing retried
    if not args.ids:
        raise UsageError(f"name the orders to retry: koppel orders {args.link} retry ORDER [ORDER ...]")
    links = wiring.order_links()
    rows = []
    for order_id in args.ids:
        before = links.get(link.link_id, order_id)
        if before is None:
            rows.append({"order": order_id, "state": "unknown", "outcome": f"no order {order_id} on {link.link_id}"})
            continue
        after = wiring.retry_order(link, order_id, f"cli-{secrets.token_hex(4)}")
        rows.append({"order": order_id, "state": after.state.value, "outcome": retry_outcome(before, after)})
    _listing(args, rows, ["ORDER", "STATE", "WHAT BECAME OF IT"], [list(row.values()) for row in rows])


def cmd_user(args: argparse.Namespace) -> None:
    """The console's users, in the stack's Cognito user pool."""
    from koppel.store.users import CognitoUsers

    users = CognitoUsers(aws.client("cognito-idp"), _physical(args, "ConsoleUserPool"))
    if args.action == "add":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
        user = users.add(args.email, password)
        if password is None:
            print(f"{user.email} added: Cognito e-mails a temporary password, which the first login replaces")
        else:
            print(f"{user.email} added with the password given")
    elif args.action == "remove":
        users.remove(args.email)
        print(f"{args.email} removed: they can no longer log in to the console")
    else:
        found = users.all()
        _listing(
            args,
            [user.__dict__ for user in found],
            ["E-MAIL", "STATUS", "ENABLED", "SINCE"],
            [[u.email, u.status, "yes" if u.enabled else "no", u.created_at] for u in found],
            empty="no console users yet: add one with `koppel user add EMAIL`",
        )


def cmd_parked(args: argparse.Namespace) -> None:
    if args.link == "replay":
        _replay_parked(args)
        return
    if args.ids:
        raise UsageError(f"event ids go with replay: koppel parked replay {args.link} {' '.join(args.ids)}")
    entries = wiring.parked_deliveries().waiting(args.link)
    _listing(
        args,
        [{"reason": reason, **envelope.model_dump(mode="json")} for envelope, reason in entries],
        ["RECEIVED", "TOPIC", "EVENT", "WHY"],
        [[f"{e.received_at:%Y-%m-%d %H:%M:%S}", e.topic, e.event_id, reason] for e, reason in entries],
        empty=f"no deliveries parked for {args.link}",
    )


def _progress(label: str) -> Any:
    """Progress of a long run on stderr (stdout stays the report): every 10 items, and the last."""

    def show(done: int, total: int) -> None:
        if total > 10 and (done % 10 == 0 or done == total):
            print(f"  {label}: {done}/{total}", file=sys.stderr)

    return show


def _replay_parked(args: argparse.Namespace) -> None:
    """`koppel parked replay LINK [ID ...]`: parked deliveries handed to the flow that now exists."""
    from koppel.flows.replay import HANDLED, replay_parked

    if not args.ids:
        raise UsageError("name the link: koppel parked replay LINK [ID ...]")
    link_id, *event_ids = args.ids
    link = wiring.config_store().get_link(link_id)  # an unknown link is an error, not nothing replayed
    outcomes = replay_parked(
        link,
        event_ids,
        parked=wiring.parked_deliveries(),
        handlers=wiring.inbound_handlers(),
        activity=wiring.activity_log(),
        progress=_progress("replayed"),
    )
    _outcomes(
        args,
        outcomes,
        "EVENT",
        empty=f"no deliveries parked for {link_id}",
        done=HANDLED,
        summary="{done} handled and out of the parked list, {rest} still parked",
    )


def _outcomes(
    args: argparse.Namespace, outcomes: list[Any], first: str, *, empty: str, done: str, summary: str
) -> None:
    """A replay's outcomes, one row per item, then how many came to `done` and how many did not."""
    _listing(
        args,
        [outcome.__dict__ for outcome in outcomes],
        [first, "OUTCOME", "WHAT BECAME OF IT"],
        [[o.item, o.result, o.detail] for o in outcomes],
        empty=empty,
    )
    if outcomes and not args.json:
        count = sum(outcome.result == done for outcome in outcomes)
        print(summary.format(done=count, rest=len(outcomes) - count))


def cmd_journey(args: argparse.Namespace) -> None:
    """Every step of one order on a link, oldest first: one query of its journey."""
    from koppel.flows.journey import journey, text

    wiring.config_store().get_link(args.link)  # an unknown link is an error, not an empty journey
    found = journey(wiring.activity_log(), args.link, args.order)
    if not found.steps:
        raise NotFound(
            f"no steps of order {args.order} on {args.link} in the last 30 days "
            f"(the channel's order id, or the backoffice's id or number; see `koppel orders {args.link}`)"
        )
    if args.json:
        _print_json(found.as_dict())
        return
    print("\n".join(text(found)))


def _physical(args: argparse.Namespace, logical_id: str) -> str:
    """A stack resource's physical name (a queue's URL): from CloudFormation, or the local runtime's state file."""
    if not args.local:
        detail = aws.client("cloudformation").describe_stack_resource(
            StackName=args.stack, LogicalResourceId=logical_id
        )
        return str(detail["StackResourceDetail"]["PhysicalResourceId"])
    state = json.loads(local_state_file().read_text())
    known = state.get("resources", {}).get(logical_id) or state.get("outputs", {}).get(f"{logical_id}Url")
    if known:
        return str(known)
    # A state file that names only the CLI's outputs: the local runtime names each queue {prefix}-{logical id}.
    urls = aws.client("sqs").list_queues().get("QueueUrls", [])
    found = [url for url in urls if url.rsplit("/", 1)[-1].endswith(f"-{logical_id}")]
    if len(found) != 1:
        raise UsageError(f"the local runtime has no queue {logical_id}; is it running (`make local`)?")
    return found[0]


def _dead_letters(args: argparse.Namespace, name: str) -> Any:
    from koppel.store.dead_letters import SqsDeadLetters

    if name not in DEAD_LETTER_QUEUES:
        raise UsageError(f"no dead-letter queue {name!r}; one of {', '.join(DEAD_LETTER_QUEUES)}")
    logical, source, _what = DEAD_LETTER_QUEUES[name]
    return SqsDeadLetters(aws.client("sqs"), _physical(args, logical), _physical(args, source) if source else "")


def cmd_dead_letters(args: argparse.Namespace) -> None:
    from koppel.flows import replay

    if args.action == "list" and not args.queue:
        counts = {name: _dead_letters(args, name).count() for name in DEAD_LETTER_QUEUES}
        _listing(
            args,
            [
                {"queue": name, "messages": counts[name], "logical_id": logical, "source": source, "what": what}
                for name, (logical, source, what) in DEAD_LETTER_QUEUES.items()
            ],
            ["QUEUE", "MESSAGES", "SOURCE", "WHAT"],
            [
                [name, counts[name], source or "(schedules)", what]
                for name, (_, source, what) in DEAD_LETTER_QUEUES.items()
            ],
            right=(1,),
        )
        return
    queue = _dead_letters(args, args.queue)
    if args.action == "list":
        letters = queue.read(args.limit)
        _listing(
            args,
            [replay.readable(letter) for letter in letters],
            ["MESSAGE", "FIRST SENT", "RECEIVED", "WHAT"],
            [
                [
                    lt.message_id,
                    f"{lt.sent_at:%Y-%m-%d %H:%M:%S}" if lt.sent_at else "",
                    lt.receive_count,
                    replay.summary(lt),
                ]
                for lt in letters
            ],
            right=(2,),
            empty=f"no dead letters in {args.queue}",
        )
    elif args.action == "show":
        letters = [lt for lt in queue.read(args.limit) if not args.ids or lt.message_id in args.ids]
        missing = sorted(set(args.ids) - {lt.message_id for lt in letters})
        if missing:
            raise NotFound(
                f"no dead letter {', '.join(missing)} in {args.queue} (see `koppel dead-letters list {args.queue}`)"
            )
        if not letters:
            print(f"no dead letters in {args.queue}")
        for letter in letters:
            print(json.dumps(replay.readable(letter), indent=2, default=str))
    elif args.action == "replay":
        if not DEAD_LETTER_QUEUES[args.queue][1]:
            raise UsageError(f"{args.queue} are not replayed: each flow runs again at its schedule")
        outcomes = replay.replay_dead_letters(queue, args.ids, limit=args.limit, progress=_progress("replayed"))
        _outcomes(
            args,
            outcomes,
            "MESSAGE",
            empty=f"no dead letters in {args.queue}",
            done=replay.REPLAYED,
            summary="{done} sent back to " + DEAD_LETTER_QUEUES[args.queue][1] + ", {rest} left",
        )


def cmd_stock(args: argparse.Namespace) -> None:
    """What koppel holds of each SKU for the link, what the channel last accepted, and why not."""
    from koppel.operations import stock_lines

    link = wiring.config_store().get_link(args.link)
    records = [record for record in wiring.stock_store().all(link.link_id) if not args.sku or record.sku == args.sku]
    rows: list[list[Any]] = []
    for line in stock_lines(link, records):
        on_channel = "not on the channel" if line.on_channel is None else line.on_channel
        # One line per warehouse; '' is a backoffice that reports one figure for all its warehouses.
        for n, (name, on_hand, backorders) in enumerate(line.warehouses):
            figures = ["-" if on_hand is None else on_hand, "-" if backorders is None else backorders]
            first = [line.sku, line.sell, on_channel] if n == 0 else ["", "", ""]
            rows.append([*first, name or "(all)", *figures, *([line.as_of, line.push] if n == 0 else ["", ""])])
    _listing(
        args,
        [{**record.__dict__, "levels": {k: v.__dict__ for k, v in record.levels.items()}} for record in records],
        ["SKU", "SELL", "ON THE CHANNEL", "WAREHOUSE", "ON HAND", "BACKORDERS", "AS OF", "PUSH"],
        rows,
        right=(1, 2, 4, 5),
        empty=f"no stock held for {args.sku or 'any SKU'} on {link.link_id}",
    )


def cmd_feed_url(args: argparse.Namespace, outputs: dict[str, Any]) -> None:
    link = wiring.config_store().get_link(args.link)
    token = feed_token(wiring.feed_signing_key(), link.link_id)
    print(f"{outputs.get('ApiUrl', '<ApiUrl>').rstrip('/')}/feeds/{link.link_id}?token={token}")


def _examples(*lines: str) -> str:
    return "example:\n" + "\n".join(f"  {line}" for line in lines)


def _leaf(sub: Any, name: str, summary: str, *examples: str, listing: bool = False) -> argparse.ArgumentParser:
    """A (sub-)command with its help and examples; a listing also takes --json after its name."""
    command = sub.add_parser(name, help=summary, description=summary, epilog=_examples(*examples))
    command.set_defaults(usage=command)
    if listing:
        command.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    return command


def _put_options(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument("id", nargs="?", metavar=what.upper(), help=f"the {what} id (or give it in --file)")
    command.add_argument("values", nargs="*", metavar="key=value", help="settings; dotted keys nest (orders.tag=bol)")
    command.add_argument("--file", help=f"JSON file with the whole {what}")
    command.add_argument("--replace", action="store_true", help="replace what is stored instead of merging into it")


def parser() -> argparse.ArgumentParser:
    root = Parser(prog="koppel", description=__doc__)
    root.set_defaults(usage=root)
    where = root.add_mutually_exclusive_group()
    where.add_argument("--stack", default=os.environ.get("KOPPEL_STACK", "koppel"), help="deployed stack name")
    where.add_argument("--local", action="store_true", help="the local runtime started by `make local`")
    root.add_argument("--json", action="store_true", help="machine-readable output")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _account_parser(sub)
    _link_parser(sub)
    _mapping_parser(sub)
    _listings_parser(sub)
    _dead_letters_parser(sub)
    _user_parser(sub)
    return root


def _user_parser(sub: Any) -> None:
    user = sub.add_parser(
        "user",
        help="who may log in to the console: add/list/remove",
        description="The console's users, in the stack's Cognito user pool (the e-mail is the login).",
        epilog=_examples("koppel user add ops@example.com", "koppel user list"),
    )
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = _leaf(
        actions,
        "add",
        "let a person log in: Cognito e-mails a temporary password, or --password-stdin sets one",
        "koppel user add ops@example.com",
        "printf '%s\\n' \"$PASSWORD\" | koppel user add ops@example.com --password-stdin",
    )
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--password-stdin", action="store_true", help="read the user's password from stdin")
    remove = _leaf(actions, "remove", "no more logins for this person", "koppel user remove ops@example.com")
    remove.add_argument("email", metavar="EMAIL")
    _leaf(actions, "list", "the console's users and their status", "koppel user list", listing=True)


def _dead_letters_parser(sub: Any) -> None:
    queues = ", ".join(f"{name} ({what})" for name, (_, _, what) in DEAD_LETTER_QUEUES.items())
    letters = sub.add_parser(
        "dead-letters",
        help="messages the stack's queues gave up on: list/show/replay",
        description=f"The stack's dead-letter queues: {queues}.",
        epilog=_examples("koppel dead-letters list", "koppel dead-letters replay events"),
    )
    actions = letters.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = _leaf(
        actions,
        "list",
        "each dead-letter queue with its count, or one queue's messages",
        "koppel dead-letters list",
        "koppel dead-letters list events --json",
        listing=True,
    )
    listing.add_argument("queue", nargs="?", metavar="QUEUE", help=", ".join(DEAD_LETTER_QUEUES))
    show = _leaf(
        actions,
        "show",
        "a queue's messages (or the ones named) readably, secrets hidden",
        "koppel dead-letters show events",
        "koppel dead-letters show events 0b9e4f1c-…",
    )
    show.add_argument("queue", metavar="QUEUE", help=", ".join(DEAD_LETTER_QUEUES))
    show.add_argument("ids", nargs="*", metavar="MESSAGE_ID")
    replay = _leaf(
        actions,
        "replay",
        "send messages back to their source queue; each is deleted here only once the send succeeded",
        "koppel dead-letters replay stock-pushes",
        "koppel dead-letters replay events 0b9e4f1c-…",
        listing=True,
    )
    replay.add_argument(
        "queue", metavar="QUEUE", help=", ".join(name for name, q in DEAD_LETTER_QUEUES.items() if q[1])
    )
    replay.add_argument("ids", nargs="*", metavar="MESSAGE_ID", help="only these (default: all, up to --limit)")
    for command, default in ((listing, 100), (show, 100), (replay, 1000)):
        command.add_argument("--limit", type=_positive, default=default, help=f"at most this many (default {default})")


def _account_parser(sub: Any) -> None:
    account = sub.add_parser(
        "account",
        help="external systems: put/list/show/delete/secret",
        description="External systems: their type, settings and the name of their secret.",
        epilog=_examples("koppel account put bol-nl system=bol secret_ref=koppel/bol-nl") + "\n\n" + account_help(),
    )
    actions = account.add_subparsers(dest="action", required=True, metavar="ACTION")
    put = _leaf(
        actions,
        "put",
        "add an account, or change the settings it names",
        "koppel account put shop-main system=shopify secret_ref=koppel/shop-main "
        "settings.shop_domain=my-shop.myshopify.com",
        "koppel account put --file account.json",
    )
    _put_options(put, "account")
    _leaf(actions, "list", "every account", "koppel account list", listing=True)
    _leaf(actions, "show", "one account as JSON", "koppel account show bol-nl").add_argument("id", metavar="ACCOUNT")
    _leaf(actions, "delete", "remove an account no link uses", "koppel account delete bol-nl").add_argument(
        "id", metavar="ACCOUNT"
    )
    secret = _leaf(
        actions,
        "secret",
        "store an account's credentials in Secrets Manager (merged into what is there)",
        "koppel account secret bol-nl client_id=… client_secret=…",
    )
    secret.add_argument("id", metavar="ACCOUNT")
    secret.add_argument("values", nargs="*", metavar="key=value", help="secret keys (see `koppel account --help`)")
    secret.add_argument("--file", help="JSON file with the credentials")
    secret.add_argument("--replace", action="store_true", help="replace the stored secret instead of merging")
    url = _leaf(
        actions,
        "webhook-url",
        "the address the account's system sends webhooks to (a secret one for systems that sign nothing, "
        "with its hook token for systems that send one)",
        "koppel account webhook-url shoprenter-main",
        "koppel account webhook-url shoprenter-main --new   # a new secret; the old one works until replaced",
        "koppel account webhook-url storekeeper-main   # the address and the hook token to enter in StoreKeeper",
    )
    url.add_argument("id", metavar="ACCOUNT")
    url.add_argument("--new", action="store_true", help="make a new secret (the current one stays valid as previous)")


def _link_parser(sub: Any) -> None:
    link = sub.add_parser(
        "link",
        help="backoffice <-> channel links: put/list/show/delete/on/off/mode",
        description="Links join a backoffice account to a channel account; each flow has its own switch.",
        epilog=_examples("koppel link put bol-to-shop backoffice=shop-main channel=bol-nl orders.tag=bol"),
    )
    actions = link.add_subparsers(dest="action", required=True, metavar="ACTION")
    put = _leaf(
        actions,
        "put",
        "add a link, or change the settings it names",
        "koppel link put bol-to-shop backoffice=shop-main channel=bol-nl orders.tag=bol",
        "koppel link put bol-to-shop stock.buffer=2",
    )
    _put_options(put, "link")
    put.add_argument(
        "--later",
        action="store_true",
        help="do not start the link's stock and product runs now; they run at their next schedule",
    )
    _leaf(actions, "list", "every link, its mode and the flows switched on", "koppel link list", listing=True)
    _leaf(actions, "show", "one link as JSON", "koppel link show bol-to-shop").add_argument("id", metavar="LINK")
    _leaf(actions, "delete", "remove a link", "koppel link delete bol-to-shop").add_argument("id", metavar="LINK")
    flows = [flow.value for flow in Flow]
    for state in ("on", "off"):
        switch = _leaf(actions, state, f"switch flows {state}", f"koppel link {state} bol-to-shop stock tracking")
        switch.add_argument("id", metavar="LINK")
        switch.add_argument(
            "flows", nargs="+", choices=flows, metavar="FLOW", help=f"one or more of {', '.join(flows)}"
        )
    mode = _leaf(
        actions,
        "mode",
        "test mode reads and maps but writes nothing; live goes live",
        "koppel link mode bol-to-shop test",
    )
    mode.add_argument("id", metavar="LINK")
    mode.add_argument(
        "mode", metavar="MODE", choices=[m.value for m in LinkMode], help=" or ".join(m.value for m in LinkMode)
    )


def _mapping_parser(sub: Any) -> None:
    mapping = sub.add_parser(
        "mapping",
        help="channel SKU -> backoffice variant: list/set/delete",
        description="Channel SKU -> backoffice variant; a manual mapping wins over automatic matches.",
        epilog=_examples("koppel mapping set bol-to-shop 8712345000031 gid://shopify/ProductVariant/123"),
    )
    actions = mapping.add_subparsers(dest="action", required=True, metavar="ACTION")
    _leaf(actions, "list", "a link's SKU mappings", "koppel mapping list bol-to-shop", listing=True).add_argument(
        "link"
    )
    put = _leaf(
        actions,
        "set",
        "map a channel SKU to a backoffice variant",
        "koppel mapping set bol-to-shop 8712345000031 gid://shopify/ProductVariant/123",
    )
    put.add_argument("link")
    put.add_argument("channel_sku")
    put.add_argument("variant_id")
    delete = _leaf(actions, "delete", "remove a SKU mapping", "koppel mapping delete bol-to-shop 8712345000031")
    delete.add_argument("link")
    delete.add_argument("channel_sku")


def _listings_parser(sub: Any) -> None:
    activity = _leaf(
        sub,
        "activity",
        "recent activity of a link or account, newest last",
        "koppel activity bol-to-shop",
        "koppel activity bol-to-shop --limit 100",
        listing=True,
    )
    activity.add_argument("subject", help="a link or account id")
    activity.add_argument("--limit", type=_positive, default=30, help="how many entries (default 30)")

    orders = _leaf(
        sub,
        "orders",
        "a link's imported orders by state (default: needs_attention)",
        "koppel orders bol-to-shop",
        "koppel orders bol-to-shop --state created",
        "koppel orders shop-to-books accept 000000042",
        "koppel orders bol-to-shop retry 1100000003      # after adding its SKU mapping",
        listing=True,
    )
    orders.add_argument("link")
    orders.add_argument(
        "action",
        nargs="?",
        choices=["accept", "retry"],
        help="accept: book these waiting orders (orders.auto_accept off); retry: try these waiting orders now",
    )
    orders.add_argument("ids", nargs="*", metavar="ORDER", help="the channel's order ids")
    orders.add_argument("--state", default="needs_attention", choices=[s.value for s in OrderState])

    parked = _leaf(
        sub,
        "parked",
        "deliveries accepted but waiting for a flow koppel does not run yet; `replay` hands them to it",
        "koppel parked bol-to-shop",
        "koppel parked replay bol-to-shop                # every parked delivery of the link",
        "koppel parked replay bol-to-shop 7f3c2a9e-…     # only these (the EVENT column)",
        listing=True,
    )
    parked.add_argument("link", help="the link (or `replay`, then the link)")
    parked.add_argument("ids", nargs="*", metavar="ID", help="with replay: the link, then the event ids (default: all)")

    journey = _leaf(
        sub,
        "journey",
        "every step of one order across systems, oldest first: received, claimed, waiting and why, created, "
        "shipped, cancelled, refunded",
        "koppel journey bol-to-shop 1100000003          # the channel's order id",
        "koppel journey bol-to-shop 1003                # or the backoffice's order number or id",
        "koppel journey bol-to-shop 1100000003 --json",
        listing=True,
    )
    journey.add_argument("link")
    journey.add_argument("order", metavar="ORDER_ID", help="the channel's order id, or the backoffice's id or number")

    stock = _leaf(
        sub,
        "stock",
        "a link's stock per SKU and warehouse: held, on the channel, pending or refused",
        "koppel stock pos-to-bol",
        "koppel stock pos-to-bol --sku MUG-BLUE-350 --json",
        listing=True,
    )
    stock.add_argument("link")
    stock.add_argument("--sku", default="", help="only this SKU")

    _leaf(
        sub, "feed-url", "the URL a marketplace fetches a link's feed from", "koppel feed-url pos-to-winkelstraat"
    ).add_argument("link")

    _leaf(
        sub,
        "systems",
        "every system koppel knows and which flows it can take part in",
        "koppel systems",
        "koppel systems --json",
        listing=True,
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")
    return value


COMMANDS = {
    "account": cmd_account,
    "link": cmd_link,
    "activity": cmd_activity,
    "mapping": cmd_mapping,
    "orders": cmd_orders,
    "parked": cmd_parked,
    "stock": cmd_stock,
    "journey": cmd_journey,
    "dead-letters": cmd_dead_letters,
    "user": cmd_user,
}


def main(argv: Sequence[str] | None = None) -> int:
    """0 when done, 2 for a wrong use (one line saying what was wrong, and the usage)."""
    try:
        return run(argv)
    except Done as done:
        return done.code


def run(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    usage: argparse.ArgumentParser = args.usage
    if args.command == "systems":  # the declarations in this install; no stack needed
        cmd_systems(args)
        return 0
    if args.command in ("account", "link") and args.action == "put":
        if not args.id and not args.file:
            usage.error(f"{args.command} put needs an id or --file")
        if args.id:
            args.values = [f"{args.command}_id={args.id}", *args.values]
    try:
        outputs = target(args)
        if args.command == "feed-url":
            cmd_feed_url(args, outputs)
        elif args.command == "account" and args.action == "webhook-url":
            cmd_webhook_url(args, outputs)
        else:
            COMMANDS[args.command](args)
    except UsageError as exc:
        usage.error(str(exc))
    except ConfigurationError as exc:
        field = exc.field
        usage.error(f"{field}: {exc.message}" if field and not exc.message.startswith(field) else exc.message)
    except NotFound as exc:  # an unknown link or account named on the command line
        usage.error(exc.message)
    except KoppelError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        # No credentials, no stack, no endpoint: one line, not a traceback.
        print(f"error: cannot reach the stack's AWS resources: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
