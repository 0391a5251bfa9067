"""The connector kit: a system is what its declaration says, everywhere koppel looks at it.

GIVEN a system declared in its own package (or registered for a test), THEN account validation,
link roles, the registry, the webhook receiver, `koppel systems` and the README all follow that
one declaration, and no generic code guesses at what a connector can do.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import httpx
import pytest
from kit_fakes import StockOnly

from koppel import cli, wiring
from koppel.config import Account, Strict, parse
from koppel.connectors import PACKAGES, matrix, registry
from koppel.connectors.declaration import Capability, Role, SystemSpec, Webhooks
from koppel.errors import ConfigurationError, UnsupportedSystem
from koppel.flows import configure
from koppel.webhooks import VerifyContext, verify

ROOT = Path(__file__).resolve().parents[1]
KOPPEL = ROOT / "layers" / "shared" / "koppel"


class TillSettings(Strict):  # what a system package's settings.py holds
    till_url: str


TILL = SystemSpec(
    name="acme-till",
    title="Acme till",
    roles=frozenset({Role.BACKOFFICE}),
    settings=TillSettings,
    credentials=("api_key",),
)


def test_every_listed_package_declares_one_system_of_its_own():
    declared = registry.systems()
    assert sorted(declared) == sorted(registry.load(f"koppel.connectors.{name}:SYSTEM").name for name in PACKAGES)
    for spec in declared.values():
        assert spec.roles, f"{spec.name} declares no role"
        if spec.serves:
            assert spec.connector, f"{spec.name} serves {spec.serves} without a connector"


def test_a_registered_system_is_validated_by_its_own_settings_model():
    with registry.registered(TILL):
        account = parse(
            Account,
            {
                "account_id": "till",
                "system": "acme-till",
                "secret_ref": "koppel/till",
                "settings": {"till_url": "https://till.example"},
            },
        )
        assert account.typed_settings().till_url == "https://till.example"
        with pytest.raises(ConfigurationError) as refused:
            parse(Account, {"account_id": "till", "system": "acme-till", "secret_ref": "koppel/till"})
        assert refused.value.field == "settings"
    with pytest.raises(ConfigurationError) as unknown:
        parse(Account, {"account_id": "till", "system": "acme-till", "secret_ref": "koppel/till"})
    assert unknown.value.field == "system"
    assert "shopify" in unknown.value.message  # the refusal names what koppel does know


def test_roles_come_from_the_declaration_so_a_new_backoffice_is_no_channel(stack):
    with registry.registered(TILL):
        stack.add_account("till", "acme-till", {}, settings={"till_url": "https://till.example"})
        stack.add_account("bol-nl", "bol", {})
        store = wiring.config_store()
        with pytest.raises(ConfigurationError) as refused:
            configure.save_link(store, {"link_id": "l1", "backoffice": "bol-nl", "channel": "till"})
        assert refused.value.field == "backoffice"
        with pytest.raises(ConfigurationError) as as_channel:
            configure.save_link(store, {"link_id": "l1", "backoffice": "till", "channel": "till-2"})
        assert as_channel.value.field == "channel"
        assert configure.save_link(store, {"link_id": "till-to-bol", "backoffice": "till", "channel": "bol-nl"})


def test_the_registry_builds_only_what_a_system_declares_and_checks_it_really_serves_it():
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    with registry.registered(TILL), pytest.raises(UnsupportedSystem, match="no stock connector for acme-till"):
        till = Account(account_id="till", system="acme-till", secret_ref="koppel/till", settings={"till_url": "x"})
        registry.build(Capability.STOCK_TARGET, till, {}, client)
    honest = SystemSpec(
        name="acme-stock",
        title="Acme stock",
        roles=frozenset({Role.CHANNEL}),
        connector="kit_fakes:stock_only",
        serves=frozenset({Capability.STOCK_TARGET}),
    )
    overclaiming = SystemSpec(
        name="acme-both",
        title="Acme both",
        roles=frozenset({Role.CHANNEL}),
        connector="kit_fakes:stock_only",
        serves=frozenset({Capability.STOCK_TARGET, Capability.PRODUCT_TARGET}),
    )
    with registry.registered(honest), registry.registered(overclaiming):
        built = registry.build(
            Capability.STOCK_TARGET, Account(account_id="acme", system="acme-stock", secret_ref="k/a"), {}, client
        )
        assert isinstance(built, StockOnly)
        with pytest.raises(registry.DeclarationError, match="acme-both declares product_target"):
            registry.build(
                Capability.STOCK_TARGET, Account(account_id="acme", system="acme-both", secret_ref="k/a"), {}, client
            )


def test_the_receiver_verifies_with_the_scheme_a_system_declares():
    from datetime import UTC, datetime, timedelta

    from koppel.errors import NotFound

    ctx = VerifyContext(now=datetime.now(UTC), tolerance=timedelta(minutes=5), stale_after=timedelta(hours=48))
    silent = SystemSpec(name="acme-silent", title="Silent", roles=frozenset({Role.CHANNEL}), webhooks=None)
    tokened = SystemSpec(
        name="acme-token",
        title="Token",
        roles=frozenset({Role.BACKOFFICE}),
        webhooks=Webhooks(scheme="token", verifier="kit_fakes:accept_named"),
    )
    with registry.registered(silent), registry.registered(tokened):
        with pytest.raises(NotFound):
            verify(Account(account_id="s1", system="acme-silent", secret_ref="k/s"), ["x"], {}, b"{}", ctx)
        delivery = verify(Account(account_id="t1", system="acme-token", secret_ref="k/t"), ["x"], {}, b"{}", ctx)
        assert delivery.dedupe_key == "t1:token"


def test_koppel_systems_prints_the_matrix_and_the_readme_holds_the_same(capsys):
    assert cli.main(["systems", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == matrix.rows()
    by_system = {row["system"]: row for row in rows}
    assert by_system["bol"]["orders_in"] == "channel"
    assert by_system["shopify"]["orders_in"] == "backoffice"
    assert by_system["shopify"]["products"] == "both"
    assert by_system["korona"]["webshop_orders_in"] == "backoffice"
    assert by_system["korona"]["returns"] == "backoffice"
    assert by_system["shopify"]["webshop_orders_in"] == "both"
    assert by_system["bol"]["webshop_orders_in"] == ""
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- systems:begin -->\n(.*?)<!-- systems:end -->", readme, re.S)
    assert table is not None, "README.md has no systems table between its markers"
    assert table.group(1).strip() == matrix.markdown().strip(), (
        "README's systems table differs: paste `matrix.markdown()`"
    )
    docs = (ROOT / "docs" / "connectors.md").read_text()
    assert matrix.markdown().strip() in docs


def test_the_account_help_lists_each_system_from_its_declaration():
    text = cli.account_help()
    for spec in registry.systems().values():
        assert spec.name in text
    assert "access_token" in text and "client_secret" in text


def test_reset_forgets_everything_wiring_built(stack):
    before = (wiring.cached_accounts(), wiring.parked_deliveries(), wiring.inbound_handlers(), wiring.config_store())
    assert wiring.parked_deliveries() is before[1]  # built once per container
    wiring.reset()
    after = (wiring.cached_accounts(), wiring.parked_deliveries(), wiring.inbound_handlers(), wiring.config_store())
    assert all(old is not new for old, new in zip(before, after, strict=True))


# --- the layering, as the code shows it ----------------------------------------------------------
def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_stores_and_ports_never_import_a_flow():
    for folder in ("store", "ports"):
        for path in (KOPPEL / folder).glob("*.py"):
            flows = {module for module in _imports(path) if module.startswith("koppel.flows")}
            assert not flows, f"{path.relative_to(ROOT)} imports {flows}"


def test_no_flow_names_a_system():
    names = [name for name in registry.systems() if name != "generic"]
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b", re.I)
    for path in (KOPPEL / "flows").glob("*.py"):
        hits = [line for line in path.read_text().splitlines() if pattern.search(line)]
        assert not hits, f"{path.relative_to(ROOT)} names a system: {hits[:3]}"


def test_nothing_probes_a_connector_for_what_it_can_do():
    for path in KOPPEL.rglob("*.py"):
        probes = [
            node.func.id
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("hasattr", "getattr")
        ]
        assert not probes, f"{path.relative_to(ROOT)} probes with {probes}"


def test_only_a_system_declared_webhook_only_may_lack_its_api_credentials(stack):
    from koppel.config import Link

    # GIVEN a KORONA till set up to push stock by webhook only, and a Shopify shop whose token is missing
    stack.add_account("till", "korona", {"webhook_secret": "s"})
    stack.add_account("shop-main", "shopify", {}, settings={"shop_domain": "demo-shop.myshopify.com"})
    stack.add_account("partner", "generic", {"signing_secret": "p"}, settings={"stock_url": "https://p.example/s"})
    till_link = Link(link_id="till-feed", backoffice="till", channel="partner", feed={"format": "json"})
    shop_link = Link(link_id="shop-feed", backoffice="shop-main", channel="partner")
    # THEN the till's feed comes from the stock koppel holds, and the shop's fails, naming what is missing
    assert list(wiring.feed_products(till_link)) == []
    with pytest.raises(ConfigurationError, match="access_token"):
        list(wiring.feed_products(shop_link))
