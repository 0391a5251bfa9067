"""Flow: saving accounts and links, refusing a bad configuration with the field named."""

from __future__ import annotations

from typing import Any

from koppel.config import Account, Flow, Link, LinkMode, check_roles, parse
from koppel.errors import ConfigurationError, UnknownAccount
from koppel.ports.config import ConfigStore


def save_account(store: ConfigStore, data: dict[str, Any]) -> Account:
    account = parse(Account, data)
    for link in store.list_links():
        if link.channel == account.account_id:
            _references_apart(store, link, account)
    store.put_account(account)
    return account


def save_link(store: ConfigStore, data: dict[str, Any]) -> Link:
    link = parse(Link, data)
    accounts = {}
    for role, account_id in (("backoffice", link.backoffice), ("channel", link.channel)):
        try:
            accounts[role] = store.get_account(account_id)
        except UnknownAccount as exc:
            raise ConfigurationError(f"{role}: no account {account_id!r}", field=role) from exc
    check_roles(link, accounts["backoffice"], accounts["channel"])
    link = _settle_flows(link, accounts["backoffice"], accounts["channel"])
    _references_apart(store, link, accounts["channel"])
    store.put_link(link)
    return link


def _settle_flows(link: Link, backoffice: Account, channel: Account) -> Link:
    """Each flow left unset becomes on where the two systems can run it and off where they cannot; one
    asked for that they cannot run is refused, naming the flow, the system and what it cannot do."""
    from koppel.connectors import matrix, registry

    specs = registry.spec(backoffice.system), registry.spec(channel.system)
    flows = link.flows.model_dump()
    for flow in Flow:
        why = matrix.why_not(flow.value, *specs)
        if flows[flow.value] is None:
            flows[flow.value] = not why
        elif flows[flow.value] and why:
            raise ConfigurationError(
                f"flows.{flow.value}: {why} (`koppel systems`); switch it off with flows.{flow.value}=false",
                field=f"flows.{flow.value}",
            )
    return Link.model_validate(link.model_dump(mode="json") | {"flows": flows})


def _references_apart(store: ConfigStore, link: Link, channel: Account) -> None:
    """Two channels whose orders go under one name in the same backoffice could take each other's order
    for their own (order 1001 of one shop found as order 1001 of the other): refused, with the fix."""
    if not link.flows.enabled(Flow.ORDERS):
        return
    name = channel.reference or channel.system
    for other in store.list_links():
        if other.link_id == link.link_id or other.backoffice != link.backoffice or other.channel == link.channel:
            continue
        if not other.flows.enabled(Flow.ORDERS):
            continue
        try:
            account = store.get_account(other.channel)
        except UnknownAccount:
            continue
        if (account.reference or account.system) == name:
            raise ConfigurationError(
                f"link {other.link_id} already books {name} orders into {link.backoffice} (from {account.account_id}): "
                f"give account {channel.account_id} a reference of its own "
                f"(`koppel account put {channel.account_id} reference=…`), so their order numbers cannot be confused",
                field="channel",
            )


def switch_flow(store: ConfigStore, link_id: str, flow: Flow, on: bool) -> Link:
    link = store.get_link(link_id)
    return save_link(store, link.model_dump(mode="json") | {"flows": link.flows.model_dump() | {flow.value: on}})


def set_mode(store: ConfigStore, link_id: str, mode: LinkMode) -> Link:
    link = store.get_link(link_id)
    return save_link(store, link.model_dump(mode="json") | {"mode": mode.value})


def remove_account(store: ConfigStore, account_id: str) -> None:
    users = [link.link_id for link in store.list_links() if account_id in (link.backoffice, link.channel)]
    if users:
        raise ConfigurationError(f"account is used by link(s) {', '.join(users)}", field="account_id")
    store.delete_account(account_id)
