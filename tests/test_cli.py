"""The `koppel` and `koppel-local` commands: a wrong use is one line and the usage, output is for a person."""

from __future__ import annotations

import argparse
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from koppel import cli, wiring
from koppel.config import Link
from koppel.ports.stock import IncomingLevel
from koppel_local import __main__ as koppel_local
from koppel_local import serve
from koppel_local.runtime import LocalCloud
from koppel_local.template import Function


def run_cli(*argv: str) -> int:
    return cli.main(["--local", *argv])


@pytest.fixture
def pos_link(local_state):
    """A KORONA -> winkelstraat link, for the listings."""
    local_state.add_account("korona-pos", "korona", {"webhook_secret": "s"})
    local_state.add_account("winkelstraat", "winkelstraat", {"signing_secret": "x"})
    wiring.config_store().put_link(Link(link_id="pos-to-ws", backoffice="korona-pos", channel="winkelstraat"))
    return "pos-to-ws"


# --- wrong uses ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "wrong"),
    [
        (["link", "on", "pos-to-ws", "magic"], "invalid choice: 'magic'"),
        (["link", "mode", "pos-to-ws", "maybe"], "invalid choice: 'maybe'"),
        (["link", "mode", "pos-to-ws"], "the following arguments are required: MODE"),
        (["link", "on", "pos-to-ws"], "the following arguments are required: FLOW"),
        (["link", "off", "nope", "stock"], "no link 'nope'"),
        (["link", "delete", "nope"], "no link 'nope'"),
        (["account", "delete", "nope"], "no account 'nope'"),
        (["link", "put"], "link put needs an id or --file"),
        (["link", "put", "pos-to-ws", "stock.buffer"], "expected key=value, got 'stock.buffer'"),
        (["mapping", "delete", "pos-to-ws", "8712345000031"], "no mapping for '8712345000031'"),
        (["stock", "nope"], "no link 'nope'"),
        (["activity", "pos-to-ws", "--limit", "0"], "expected a whole number above 0"),
        (["link", "frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_a_wrong_use_is_one_line_saying_what_was_wrong_and_the_usage(pos_link, capsys, argv, wrong):
    capsys.readouterr()
    assert run_cli(*argv) == 2
    out, err = capsys.readouterr()
    said, *usage = err.rstrip("\n").splitlines()
    assert said.startswith("error: ") and wrong in said
    assert usage and usage[0].startswith(f"usage: koppel {argv[0]}") and "error" not in " ".join(usage)
    assert "Traceback" not in err and out == ""


def test_a_wrong_use_deletes_nothing_and_says_nothing_was_deleted(pos_link, capsys):
    assert run_cli("account", "delete", "nope") == 2
    assert "deleted" not in capsys.readouterr().out


def test_no_local_runtime_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KOPPEL_LOCAL_STATE", str(tmp_path / "absent.json"))
    assert run_cli("link", "list") == 2
    err = capsys.readouterr().err
    assert "no local runtime found" in err and "Traceback" not in err


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every command and sub-command of the CLI, as the words that name it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name)
                yield from commands(sub, (*path, name))


def test_every_command_and_sub_command_has_help_with_an_example(capsys):
    found = list(commands(cli.parser()))
    assert ("link", "mode") in found and ("mapping", "set") in found and ("stock",) in found
    for words in found:
        assert cli.main([*words, "--help"]) == 0
        out = capsys.readouterr().out
        assert "example:" in out, words
        example = out.split("example:", 1)[1].splitlines()[1].strip()
        assert example.startswith(f"koppel {' '.join(words)}"), (words, example)


# --- output for a person ------------------------------------------------------------------------
def test_the_cli_manages_accounts_links_and_switches(local_state, capsys):
    assert (
        run_cli(
            "account",
            "put",
            "shop-main",
            "system=shopify",
            "secret_ref=koppel/shop-main",
            "settings.shop_domain=demo-shop.myshopify.com",
        )
        == 0
    )
    assert run_cli("account", "secret", "shop-main", "access_token=shpat_x", "webhook_secret=w") == 0
    assert run_cli("account", "put", "bol-nl", "system=bol", "secret_ref=koppel/bol-nl") == 0
    assert run_cli("link", "put", "bol-to-shop", "backoffice=shop-main", "channel=bol-nl", "stock.buffer=2") == 0
    assert run_cli("link", "off", "bol-to-shop", "stock") == 0
    assert run_cli("link", "mode", "bol-to-shop", "test") == 0
    link = wiring.config_store().get_link("bol-to-shop")
    assert (link.flows.stock, link.stock.buffer, link.dry_run) == (False, 2, True)
    secret = local_state.client("secretsmanager").get_secret_value(SecretId="koppel/shop-main")["SecretString"]
    assert json.loads(secret) == {"access_token": "shpat_x", "webhook_secret": "w"}
    capsys.readouterr()
    assert run_cli("link", "list") == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["LINK", "BACKOFFICE", "CHANNEL", "MODE", "FLOWS", "ON", "SCHEDULE"]
    # returns are off: koppel takes no returns from bol.com yet, so `link put` settled them off, visibly
    assert row.split() == ["bol-to-shop", "shop-main", "bol-nl", "test", "orders,tracking", "default"]
    assert row.index("shop-main") == header.index("BACKOFFICE")  # columns line up


def test_the_cli_refuses_a_bad_link_naming_the_field(local_state, capsys):
    run_cli("account", "put", "bol-nl", "system=bol", "secret_ref=koppel/bol-nl")
    assert run_cli("link", "put", "l1", "backoffice=nobody", "channel=bol-nl") == 2
    assert "backoffice: no account 'nobody'" in capsys.readouterr().err


def test_a_put_changes_only_what_it_names_and_a_secret_keeps_its_other_keys(local_state):
    run_cli(
        "account",
        "put",
        "shop-main",
        "system=shopify",
        "secret_ref=koppel/shop-main",
        "settings.shop_domain=demo-shop.myshopify.com",
    )
    run_cli("account", "secret", "shop-main", "access_token=shpat_x", "webhook_secret=w")
    run_cli("account", "put", "bol-nl", "system=bol", "secret_ref=koppel/bol-nl")
    run_cli("link", "put", "bol-to-shop", "backoffice=shop-main", "channel=bol-nl", "mode=test", "stock.buffer=2")
    # WHEN a setting is changed later, and a rotation's previous secret is added
    assert run_cli("link", "put", "bol-to-shop", "orders.tag=bol") == 0
    assert run_cli("account", "secret", "shop-main", "previous_webhook_secret=old") == 0
    # THEN nothing else moved: still in test mode, the buffer kept, the token still there
    link = wiring.config_store().get_link("bol-to-shop")
    assert (link.dry_run, link.stock.buffer, link.orders.tag) == (True, 2, "bol")
    secret = local_state.client("secretsmanager").get_secret_value(SecretId="koppel/shop-main")["SecretString"]
    assert json.loads(secret) == {"access_token": "shpat_x", "webhook_secret": "w", "previous_webhook_secret": "old"}
    # AND --replace starts from scratch
    assert run_cli("link", "put", "bol-to-shop", "backoffice=shop-main", "channel=bol-nl", "--replace") == 0
    assert wiring.config_store().get_link("bol-to-shop").dry_run is False


def hold(link_id: str, sku: str, *levels: tuple[str, int, int]) -> None:
    at = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    incoming = [IncomingLevel(sku, warehouse, on_hand, back, "t1", at) for warehouse, on_hand, back in levels]
    wiring.stock_store().merge(
        link_id,
        sku,
        incoming,
        quantity_of=lambda held: sum(level.on_hand for level in held.values()),
        sellable=lambda quantity: quantity,
    )


def test_the_stock_listing_says_not_on_the_channel_names_the_warehouse_and_lines_up(pos_link, capsys):
    # GIVEN one SKU from a backoffice with one figure for all warehouses, one from two warehouses
    hold(pos_link, "MUG-BLUE-350", ("", 7, 0))
    hold(pos_link, "TEA", ("ams", 3, 1), ("rtm", 12, 0))
    capsys.readouterr()
    # WHEN a person lists the link's stock
    assert run_cli("stock", pos_link) == 0
    out = capsys.readouterr().out
    header, mug, ams, rtm = out.splitlines()
    # THEN it says what the channel has in words, names each warehouse, and the columns line up
    assert "None" not in out and "-:" not in out
    assert "not on the channel" in mug and "pending" in mug
    assert mug.split()[:2] == ["MUG-BLUE-350", "7"]
    assert mug[header.index("WAREHOUSE") :].split()[:3] == ["(all)", "7", "0"]
    # the link sells free stock: (3 - 1) + 12
    assert ams.split()[:4] == ["TEA", "14", "not", "on"] and ams[header.index("WAREHOUSE") :].split()[:3] == [
        "ams",
        "3",
        "1",
    ]
    assert (
        rtm[header.index("WAREHOUSE") :].split() == ["rtm", "12", "0"] and not rtm[: header.index("WAREHOUSE")].strip()
    )
    assert {line.rindex("pending") for line in (mug, ams)} == {header.index("PUSH")}


@pytest.mark.parametrize(
    "argv",
    [
        ["link", "list"],
        ["account", "list"],
        ["stock", "pos-to-ws"],
        ["activity", "pos-to-ws"],
        ["orders", "pos-to-ws"],
        ["parked", "pos-to-ws"],
        ["mapping", "list", "pos-to-ws"],
    ],
)
def test_every_listing_takes_json_after_its_name(pos_link, capsys, argv):
    hold(pos_link, "TEA", ("ams", 3, 1))
    wiring.activity_log().record(pos_link, "stock.pushed", "TEA pushed")
    capsys.readouterr()
    assert run_cli(*argv, "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert isinstance(listed, list)
    if argv[0] in ("link", "account", "stock", "activity"):
        assert listed


def test_a_listing_cut_at_its_limit_says_so_and_how_to_see_more(pos_link, capsys):
    for n in range(5):
        wiring.activity_log().record(pos_link, "stock.pushed", f"push {n}")
    capsys.readouterr()
    assert run_cli("activity", pos_link, "--limit", "3") == 0
    notice, *lines = capsys.readouterr().out.splitlines()
    assert "only the newest 3 shown" in notice and "--limit" in notice
    assert [line.split()[-1] for line in lines] == ["2", "3", "4"]  # newest last
    assert run_cli("activity", pos_link, "--limit", "3", "--json") == 0
    out, err = capsys.readouterr()
    assert [e["message"] for e in json.loads(out)] == ["push 2", "push 3", "push 4"] and "--limit" in err
    assert run_cli("activity", pos_link, "--limit", "5") == 0
    assert "only the newest" not in capsys.readouterr().out  # nothing cut, nothing said


# --- the local runtime --------------------------------------------------------------------------
class FakeCloud:
    """What `koppel-local serve` drives, without the embedded AWS."""

    def __init__(self) -> None:
        self.functions = {"OrderPollerFunction": object()}
        self.fired: list[str] = []

    def wsgi(self, environ, start_response):
        start_response("404 Not Found", [])
        return [b""]

    def fire(self, name: str):
        self.fired.append(name)
        return {"imported": 3, "at": datetime(2026, 11, 21, tzinfo=UTC)}


@pytest.fixture
def running_runtime(tmp_path, monkeypatch):
    cloud = FakeCloud()
    server = make_server("127.0.0.1", 0, serve.fire_route(cloud), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"http_url": f"http://127.0.0.1:{server.server_port}"}))
    monkeypatch.setenv("KOPPEL_LOCAL_STATE", str(state))
    yield cloud
    server.shutdown()


def test_koppel_local_fire_runs_the_function_and_prints_what_it_returned(running_runtime, capsys):
    assert koppel_local.main(["fire", "OrderPollerFunction"]) == 0
    assert running_runtime.fired == ["OrderPollerFunction"]
    assert json.loads(capsys.readouterr().out) == {"imported": 3, "at": "2026-11-21 00:00:00+00:00"}


def test_koppel_local_fire_of_an_unknown_function_names_the_known_ones(running_runtime, capsys):
    assert koppel_local.main(["fire", "OrderPoller"]) == 2
    err = capsys.readouterr().err
    assert "no function 'OrderPoller'" in err and "OrderPollerFunction" in err and running_runtime.fired == []


def test_koppel_local_fire_without_a_running_runtime_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KOPPEL_LOCAL_STATE", str(tmp_path / "absent.json"))
    assert koppel_local.main(["fire", "OrderPollerFunction"]) == 1
    assert "no local runtime is running" in capsys.readouterr().err
    # a runtime that stopped leaves its state file behind: nothing answers there
    stale = tmp_path / "state.json"
    stale.write_text(json.dumps({"http_url": "http://127.0.0.1:9"}))
    monkeypatch.setenv("KOPPEL_LOCAL_STATE", str(stale))
    assert koppel_local.main(["fire", "OrderPollerFunction"]) == 1
    err = capsys.readouterr().err
    assert "no local runtime is running" in err and "Traceback" not in err


def run_briefly(cloud: LocalCloud, **kwargs) -> tuple[list[str], int]:
    """Run the runtime's loop until the queues were drained a few times; what fired, how often drained."""
    fired: list[str] = []
    drained = threading.Semaphore(0)
    cloud.fire = lambda name, detail=None: fired.append(name)  # type: ignore[method-assign]
    cloud.drain_queues = lambda rounds=10: drained.release() or 0  # type: ignore[method-assign]
    loop = threading.Thread(target=cloud.run_forever, kwargs={"poll_seconds": 0.01, **kwargs}, daemon=True)
    loop.start()
    rounds = sum(drained.acquire(timeout=5) for _ in range(3))
    cloud._stop.set()
    loop.join(timeout=5)
    return fired, rounds


def cloud_with_a_queue_and_a_schedule() -> LocalCloud:
    cloud = LocalCloud()
    worker = Function("QueueWorker", Path("."), "worker", "handler", 30, queues=[("EventQueue", 10)])
    poller = Function(
        "OrderPollerFunction", Path("."), "poller", "handler", 30, schedules=[("rate(5 minutes)", "ENABLED")]
    )
    cloud.functions = {fn.logical_id: fn for fn in (worker, poller)}
    return cloud


def test_without_schedules_the_queues_are_still_drained():
    fired, drained = run_briefly(cloud_with_a_queue_and_a_schedule(), schedules=False)
    assert (fired, drained) == ([], 3)
    fired, drained = run_briefly(cloud_with_a_queue_and_a_schedule())
    assert (fired, drained) == (["OrderPollerFunction"], 3)


def test_serve_without_schedules_runs_the_queue_loop(monkeypatch):
    ran: list[dict] = []

    class Cloud(FakeCloud):
        endpoint = "http://127.0.0.1:1"

        def __init__(self) -> None:
            super().__init__()
            self.functions = cloud_with_a_queue_and_a_schedule().functions

        def start(self):
            return self

        def serve_http(self, port):
            return f"http://127.0.0.1:{port}"

        def run_forever(self, **kwargs):
            ran.append(kwargs)

        def stop(self):
            pass

    monkeypatch.setattr(serve, "LocalCloud", lambda **_: Cloud())
    monkeypatch.setattr(serve, "start_simulators", dict)
    done = threading.Thread(target=serve.serve_forever, kwargs={"port": 0, "schedules": False}, daemon=True)
    done.start()
    done.join(timeout=5)
    assert not done.is_alive() and ran == [{"schedules": False}]
