"""`make local`: koppel's routes on 127.0.0.1, its schedules firing, simulators beside it."""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from koppel_local.runtime import LocalCloud
from koppel_local.simulators.bol import BolSimulator
from koppel_local.simulators.shopify import ShopifySimulator


def start_simulators() -> dict[str, Any]:
    """bol.com and Shopify simulators on free 127.0.0.1 ports; returns them with their URLs."""
    started: dict[str, Any] = {}
    for name, app in (("bol", BolSimulator()), ("shopify", ShopifySimulator())):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started[name] = (app, f"http://127.0.0.1:{server.server_port}", server)
    return started


def fire_route(cloud: LocalCloud) -> Any:
    """POST /_local/fire/<FunctionLogicalId>: run a scheduled function now (local runtime only)."""
    inner = cloud.wsgi

    def app(environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        prefix = "/_local/fire/"
        if request.method == "POST" and request.path.startswith(prefix):
            name = request.path[len(prefix) :]
            if name not in cloud.functions:
                return Response(f"no function {name}\n", status=404)(environ, start_response)
            result = cloud.fire(name)
            return Response(f"{result}\n", status=200)(environ, start_response)
        return inner(environ, start_response)

    return app


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
    print(f"Run a schedule now: curl -X POST {url}/_local/fire/OrderPollerFunction")
    print("Manage it:          .venv/bin/koppel --local account list")
    try:
        if schedules:
            cloud.run_forever()
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        cloud.stop()
    return 0
