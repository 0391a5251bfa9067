"""`koppel-local`: koppel on this machine, on embedded AWS.

koppel-local serve            serve the template's routes on 127.0.0.1, drain its queues, fire its schedules
koppel-local fire FUNCTION    run one function of the running runtime now and print what it returned
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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="serve routes, drain queues and fire schedules until Ctrl-C",
        description="Serve the template's routes on 127.0.0.1, drain its queues and fire its schedules.",
        epilog="example:\n  koppel-local serve --port 3000 --no-schedules",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument(
        "--no-schedules", action="store_true", help="fire nothing on a schedule (queues are still drained)"
    )
    fire = sub.add_parser(
        "fire",
        help="run one function of the running runtime now and print what it returned",
        description="Run one function of the running local runtime now, with a scheduled event.",
        epilog="example:\n  koppel-local fire OrderPollerFunction",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fire.add_argument("function", metavar="FUNCTION", help="the template's logical id, e.g. OrderPollerFunction")
    sub.add_parser(
        "demo",
        help="run the demo",
        description="koppel's main job end to end, step by step, against simulators.",
        epilog="example:\n  koppel-local demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from koppel_local.demo import run

        return run()
    if args.command == "fire":
        from koppel_local.serve import fire as fire_function

        return fire_function(args.function)
    from koppel_local.serve import serve_forever

    return serve_forever(port=args.port, schedules=not args.no_schedules)


if __name__ == "__main__":
    sys.exit(main())
