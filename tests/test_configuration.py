"""Accounts and links: a bad configuration is refused, naming the field (the CLI: test_cli.py)."""

from __future__ import annotations

import pytest

from koppel import wiring
from koppel.config import Account, Link, parse
from koppel.errors import ConfigurationError
from koppel.flows import configure


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"account_id": "Shop Main", "system": "shopify", "secret_ref": "koppel/x"}, "account_id"),
        ({"account_id": "shop", "system": "shopyfy", "secret_ref": "koppel/x"}, "system"),
        ({"account_id": "shop", "system": "shopify", "secret_ref": "shpat_123 secret value"}, "secret_ref"),
        (
            {"account_id": "shop", "system": "shopify", "secret_ref": "koppel/x", "settings": {"shop_domain": "x.com"}},
            "settings",
        ),
        (
            {"account_id": "shop", "system": "bol", "secret_ref": "koppel/x", "settings": {"fulfilment_method": "X"}},
            "settings",
        ),
        ({"account_id": "shop", "system": "shopify", "secret_ref": "koppel/x"}, "settings"),  # shop_domain missing
        (
            {
                "account_id": "shop",
                "system": "shopify",
                "secret_ref": "koppel/x",
                "settings": {"shop_domain": "x.myshopify.com"},
                "password": "p",
            },
            "password",
        ),
    ],
)
def test_a_bad_account_is_refused_naming_the_field(data, field):
    with pytest.raises(ConfigurationError) as refused:
        parse(Account, data)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"link_id": "l1", "backoffice": "a1", "channel": "a1"}, "channel"),
        ({"link_id": "l1", "backoffice": "a1", "channel": "b1", "flows": {"stock": "maybe"}}, "flows.stock"),
        ({"link_id": "l1", "backoffice": "a1", "channel": "b1", "stock": {"buffer": -1}}, "stock.buffer"),
        ({"link_id": "l1", "backoffice": "a1", "channel": "b1", "stock": {"basis": "magic"}}, "stock.basis"),
        ({"link_id": "l1", "backoffice": "a1", "channel": "b1", "mode": "maybe"}, "mode"),
        ({"link_id": "l1", "backoffice": "a1", "channel": "b1", "feed": {"format": "xml"}}, "feed"),
        (
            {"link_id": "l1", "backoffice": "a1", "channel": "b1", "feed": {"product_url": "https://x/p"}},
            "feed.product_url",
        ),
        (
            {"link_id": "l1", "backoffice": "a1", "channel": "b1", "tracking": {"wait_for_tracking_hours": 500}},
            "tracking.wait_for_tracking_hours",
        ),
    ],
)
def test_a_bad_link_is_refused_naming_the_field(data, field):
    with pytest.raises(ConfigurationError) as refused:
        parse(Link, data)
    assert refused.value.field == field


def test_a_link_needs_existing_accounts_that_can_play_their_part(stack):
    store = wiring.config_store()
    stack.add_account("bol-nl", "bol", {})
    stack.add_account("shop-main", "shopify", {}, settings={"shop_domain": "demo-shop.myshopify.com"})
    with pytest.raises(ConfigurationError) as missing:
        configure.save_link(store, {"link_id": "l1", "backoffice": "nobody", "channel": "bol-nl"})
    assert missing.value.field == "backoffice"
    with pytest.raises(ConfigurationError) as reversed_roles:
        configure.save_link(store, {"link_id": "l1", "backoffice": "bol-nl", "channel": "shop-main"})
    assert reversed_roles.value.field == "backoffice"
    link = configure.save_link(store, {"link_id": "bol-to-shop", "backoffice": "shop-main", "channel": "bol-nl"})
    assert store.get_link("bol-to-shop") == link


def test_a_csv_or_xml_feed_from_a_backoffice_koppel_reads_no_products_from_is_refused_at_put(stack):
    # GIVEN a backoffice that only signs stock webhooks (koppel reads no products from it) and a feed channel
    store = wiring.config_store()
    stack.add_account("warehouse", "generic", {"webhook_secret": "s"})
    stack.add_account("partner", "winkelstraat", {"signing_secret": "p"}, settings={"stock_url": "https://p.example/s"})
    link = {"link_id": "wh-feed", "backoffice": "warehouse", "channel": "partner", "flows": {"feed": True}}
    # WHEN a CSV or XML feed is asked for, THEN the link is refused, naming the field and the way out
    for feed in ({"format": "csv"}, {"format": "xml", "product_url": "https://shop.example/p/{sku}"}):
        with pytest.raises(ConfigurationError, match=r"feed\.format=json") as refused:
            configure.save_link(store, link | {"feed": feed})
        assert refused.value.field == "feed.format"
    # AND a feed of SKUs and quantities is taken
    assert configure.save_link(store, link | {"feed": {"format": "json"}}).feed.format == "json"


def test_an_account_in_use_cannot_be_deleted(stack):
    stack.add_account("bol-nl", "bol", {})
    stack.add_account("shop-main", "shopify", {}, settings={"shop_domain": "demo-shop.myshopify.com"})
    configure.save_link(wiring.config_store(), {"link_id": "l1", "backoffice": "shop-main", "channel": "bol-nl"})
    with pytest.raises(ConfigurationError, match="used by link"):
        configure.remove_account(wiring.config_store(), "bol-nl")


@pytest.mark.parametrize(
    ("code", "raised"),
    [
        ("ThrottlingException", "ServiceUnavailable"),
        ("InternalServiceError", "ServiceUnavailable"),
        ("ResourceNotFoundException", "ConfigurationError"),
        ("AccessDeniedException", "ConfigurationError"),
    ],
)
def test_a_secret_that_cannot_be_read_is_a_retry_or_a_set_up_error_by_its_cause(code, raised):
    import boto3
    from botocore.stub import Stubber

    from koppel.credentials import SecretsManagerCredentials

    client = boto3.client("secretsmanager", region_name="eu-west-1")
    account = Account(
        account_id="shop", system="shopify", secret_ref="koppel/shop", settings={"shop_domain": "s.myshopify.com"}
    )
    with Stubber(client) as stub:
        stub.add_client_error("get_secret_value", service_error_code=code)
        with pytest.raises(Exception) as failed:
            SecretsManagerCredentials(client, max_age_seconds=0).credentials(account)
    assert type(failed.value).__name__ == raised


def test_links_are_read_at_most_every_few_seconds_and_own_changes_are_seen_at_once(stack):
    from koppel.store.dynamodb import DynamoConfigStore

    stack.add_account("korona-pos", "korona", {"webhook_secret": "s"})
    stack.add_account("winkelstraat", "winkelstraat", {"signing_secret": "x"})
    now = [0.0]
    worker = DynamoConfigStore(wiring.table(), links_ttl=5, clock=lambda: now[0])
    cli_side = DynamoConfigStore(wiring.table())
    worker.put_link(Link(link_id="first", backoffice="korona-pos", channel="winkelstraat"))
    assert [link.link_id for link in worker.list_links()] == ["first"]  # its own change: at once
    cli_side.put_link(Link(link_id="second", backoffice="korona-pos", channel="winkelstraat"))
    now[0] = 4.9
    assert [link.link_id for link in worker.list_links()] == ["first"]  # another's: not yet
    now[0] = 5.0
    assert [link.link_id for link in worker.list_links()] == ["first", "second"]  # within 5 s


def test_a_flow_the_systems_cannot_run_is_refused_when_asked_for_and_settled_off_when_left_unset(stack):
    # GIVEN a StoreKeeper backoffice and Winkelstraat.nl, which takes no shipments (koppel sends none back)
    store = wiring.config_store()
    stack.add_account("sk", "storekeeper", {})
    stack.add_account("ws", "winkelstraat", {"signing_secret": "p"}, settings={"stock_url": "https://p.example/s"})
    link = {"link_id": "sk-ws", "backoffice": "sk", "channel": "ws"}
    # WHEN tracking is asked for, THEN the link is refused, naming the flow, the system and what it cannot do
    with pytest.raises(ConfigurationError) as refused:
        configure.save_link(store, link | {"flows": {"tracking": True}})
    assert refused.value.field == "flows.tracking"
    assert "winkelstraat cannot be the channel of shipments out" in refused.value.message
    # WHEN the flows are left unset, THEN each is settled by what the systems can: on, or visibly off
    flows = configure.save_link(store, link).flows
    assert (flows.orders, flows.stock, flows.tracking, flows.returns) == (True, True, False, False)


def test_a_flow_switched_on_that_a_system_can_no_longer_run_fails_its_run(stack, context):
    import order_poller
    from scenarios import schedule_event

    from koppel.connectors import registry
    from koppel.connectors.declaration import SystemSpec
    from koppel.flows.schedule import ScheduledRunFailed

    # GIVEN a StoreKeeper -> Winkelstraat.nl link saved with orders on
    stack.add_account("sk", "storekeeper", {})
    stack.add_account("ws", "winkelstraat", {"signing_secret": "p"}, settings={"stock_url": "https://p.example/s"})
    configure.save_link(wiring.config_store(), {"link_id": "sk-ws", "backoffice": "sk", "channel": "ws"})
    # WHEN the backoffice's system no longer takes orders (a changed declaration)
    declared = registry.spec("storekeeper")
    changed = SystemSpec(name="storekeeper", title=declared.title, roles=declared.roles, webhooks=None)
    # THEN the run fails (the failed-run queue and its alarm), not a quiet "not available"
    with registry.registered(changed), pytest.raises(ScheduledRunFailed):
        order_poller.lambda_handler(schedule_event(), context)
    [entry] = wiring.activity_log().recent("sk-ws")
    assert entry.kind == "orders.failed" and "switched on but cannot run" in entry.message
