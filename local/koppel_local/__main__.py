"""`koppel-local`: koppel on this machine, on embedded AWS.

koppel-local serve            serve the template's routes on 127.0.0.1, fire its schedules
koppel-local demo             the main job end to end, step by step, against simulators
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="koppel-local", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve routes and fire schedules until Ctrl-C")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--no-schedules", action="store_true")
    sub.add_parser("demo", help="run the demo")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from koppel_local.demo import run

        return run()
    from koppel_local.serve import serve_forever

    return serve_forever(port=args.port, schedules=not args.no_schedules)


if __name__ == "__main__":
    sys.exit(main())
