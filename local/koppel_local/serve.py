"""`make local`: koppel's routes on 127.0.0.1, its queues drained and schedules firing, simulators beside it."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from koppel_local.runtime import STATE_FILE, LocalCloud
from koppel_local.simulators.bol import BolSimulator
from koppel_local.simulators.copernicus import CopernicusSimulator
from koppel_local.simulators.innvoice import InnVoiceSimulator
from koppel_local.simulators.kit import ReferenceMissing
from koppel_local.simulators.korona import KoronaSimulator
from koppel_local.simulators.korona import load_contract as korona_contract
from koppel_local.simulators.magento import MagentoSimulator
from koppel_local.simulators.magento import load_contract as magento_contract
from koppel_local.simulators.opencart import OpenCartSimulator
from koppel_local.simulators.prestashop import PrestaShopSimulator
from koppel_local.simulators.prestashop import load_contract as prestashop_contract
from koppel_local.simulators.shopify import ShopifySimulator
from koppel_local.simulators.shoprenter import ShoprenterSimulator
from koppel_local.simulators.shoprenter import load_contract as shoprenter_contract
from koppel_local.simulators.snelstart import SnelStartSimulator
from koppel_local.simulators.snelstart import load_contract as snelstart_contract
from koppel_local.simulators.storekeeper import StoreKeeperSimulator

# The secret the Copernicus simulator checks koppel's stock webhooks with: a Winkelstraat account's
# `signing_secret` in a local run (made up; a real one is agreed with Copernicus).
COPERNICUS_SECRET = "copernicus-local-signing-secret"  # noqa: S105


def _contract(load: Any) -> Any:
    """A simulator's published spec where the reference folder has it; None: it serves unchecked."""
    try:
        return load()
    except ReferenceMissing:
        return None


def korona_simulator() -> KoronaSimulator:
    """KORONA, checked against its published spec where the reference folder has it."""
    return KoronaSimulator(contract=_contract(korona_contract))


def start_simulators() -> dict[str, Any]:
    """bol.com, Shopify, KORONA, SnelStart, Magento, PrestaShop, OpenCart, InnVoice, Shoprenter,
    StoreKeeper and Copernicus (Winkelstraat.nl) simulators on free 127.0.0.1 ports; returns them with
    their URLs (Shoprenter's hrefs and StoreKeeper's init hook name their own)."""
    started: dict[str, Any] = {}
    apps = (
        ("bol", BolSimulator()),
        ("shopify", ShopifySimulator()),
        ("korona", korona_simulator()),
        ("snelstart", SnelStartSimulator(contract=_contract(snelstart_contract))),
        ("magento", MagentoSimulator(contract=_contract(magento_contract), now=datetime.now(UTC))),
        ("prestashop", PrestaShopSimulator(contract=_contract(prestashop_contract), now=datetime.now(UTC))),
        ("opencart", OpenCartSimulator(now=datetime.now(UTC))),
        ("innvoice", InnVoiceSimulator()),
        ("shoprenter", ShoprenterSimulator(contract=_contract(shoprenter_contract), now=datetime.now(UTC))),
        ("storekeeper", StoreKeeperSimulator(now=datetime.now(UTC))),
        ("copernicus", CopernicusSimulator(secret=COPERNICUS_SECRET)),
    )
    for name, app in apps:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started[name] = (app, f"http://127.0.0.1:{server.server_port}", server)
    shoprenter, shoprenter_url, _server = started["shoprenter"]
    shoprenter.serve_at(shoprenter_url)
    storekeeper, storekeeper_url, _server = started["storekeeper"]
    storekeeper.serve_at(storekeeper_url)
    return started


def fire_route(cloud: LocalCloud) -> Any:
    """POST /_local/fire/<FunctionLogicalId>: run a function now with a scheduled event (local runtime only);
    a JSON body `{"link_id": …}` runs it for that link alone."""
    inner = cloud.wsgi

    def app(environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        prefix = "/_local/fire/"
        if request.method == "POST" and request.path.startswith(prefix):
            name = request.path[len(prefix) :]
            if name not in cloud.functions:
                known = ", ".join(sorted(cloud.functions))
                return Response(f"no function {name!r}; this runtime has {known}\n", status=404)(
                    environ, start_response
                )
            try:
                # A JSON body {"link_id": …} runs it for that link only, as a scheduled event's detail does.
                asked = json.loads(request.get_data() or b"{}")
                link_id = asked.get("link_id") if isinstance(asked, dict) else None
                result = cloud.fire(name, {"link_id": str(link_id)}) if link_id else cloud.fire(name)
            except Exception as exc:  # noqa: BLE001 - reported to whoever fired it, as Lambda reports a failed invoke
                return Response(f"{name} failed: {type(exc).__name__}: {exc}\n", status=500)(environ, start_response)
            return Response(json.dumps(result, indent=2, default=str) + "\n", status=200)(environ, start_response)
        return inner(environ, start_response)

    return app


def state_file() -> Path:
    """Where the running runtime says where it listens (the same file `koppel --local` reads)."""
    return Path(os.environ.get("KOPPEL_LOCAL_STATE", STATE_FILE))


def fire(name: str, path: Path | None = None) -> int:
    """`koppel-local fire NAME`: ask the running local runtime to run a function; print what it returned."""
    path = path or state_file()
    no_runtime = "no local runtime is running; start one with `make local` (or `koppel-local serve`)"
    url = json.loads(path.read_text()).get("http_url", "") if path.is_file() else ""
    if not url:
        print(f"koppel-local fire: error: {no_runtime}", file=sys.stderr)
        return 1
    try:
        answer = httpx.post(f"{url}/_local/fire/{name}", timeout=900)
    except httpx.TransportError:
        print(f"koppel-local fire: error: {no_runtime} (nothing answers at {url})", file=sys.stderr)
        return 1
    if answer.status_code != 200:
        print(f"koppel-local fire: error: {answer.text.strip()}", file=sys.stderr)
        return 2 if answer.status_code == 404 else 1
    print(answer.text, end="")
    return 0


# What an account of each simulated system needs to reach it, printed when the runtime starts.
_SETTINGS_HINTS = {
    "korona": "KORONA account_id {app.account_id}; API base_url {url}/web/api/v3",
    "snelstart": "SnelStart base_url {url}/v2, token_url {url}/b2b/token",
    "shoprenter": "Shoprenter api_base_url {url}/api, token_url {url}/{app.shop}/app/token",
    "innvoice": "InnVoice base_url {url}, reg_name koppel-demo",
    "storekeeper": "StoreKeeper api_url {url}/api, brought by its init hook (make demo step 17 sends it)",
    "copernicus": "Winkelstraat stock_url {url}/stock, signing_secret " + COPERNICUS_SECRET,
}


def serve_forever(port: int = 3000, schedules: bool = True) -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    cloud = LocalCloud(log_level="INFO").start()
    sims = start_simulators()
    cloud.wsgi = fire_route(cloud)  # type: ignore[method-assign]
    url = cloud.serve_http(port)
    print(f"koppel local runtime — embedded AWS at {cloud.endpoint}")
    for fn in cloud.functions.values():
        for route in fn.routes:
            print(f"  {route.method:<5} {url}{route.path:<28} -> {fn.logical_id}")
        for expression, state in fn.schedules:
            print(f"  every {expression:<23} ({state.lower()})        -> {fn.logical_id}")
    for name, (_app, sim_url, _server) in sims.items():
        print(f"  {name} simulator at {sim_url}")
    for name, hint in _SETTINGS_HINTS.items():
        if name in sims:
            app, sim_url, _server = sims[name]
            print(f"  ({hint.format(url=sim_url, app=app)})")
    print("Run a function now: .venv/bin/koppel-local fire OrderPollerFunction")
    print("Manage it:          .venv/bin/koppel --local account list")
    try:
        cloud.run_forever(schedules=schedules)  # queues are drained either way
    except KeyboardInterrupt:
        pass
    finally:
        cloud.stop()
    return 0
