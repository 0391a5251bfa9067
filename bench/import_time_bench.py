"""Cold start: each handler module's import time, as a ratio to `import boto3` alone. Target <= 1.3x.

Each figure is the median CPU time of the import in fresh interpreters, with the environment a
deployed function has (Powertools settings, the handler's folder and the layer on the path).
Tracing is off, as in a local run; a second column imports the handler with tracing on, as in
Lambda with `Tracing: Active`, where the Powertools Tracer and the X-Ray SDK are imported too: what
a traced function pays.

For each handler the baseline (`import boto3`), the handler with tracing off and with tracing on
run in turn, RUNS times, so the host's drift reaches all three alike; each row prints its own
baseline. Every interpreter reads and writes bytecode in one cache of the run's own
(PYTHONPYCACHEPREFIX), whatever PYTHONDONTWRITEBYTECODE says: boto3's site-packages come compiled,
and koppel's sources compiled at every import would weigh on one side only. The first round fills
the cache and is not counted. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "shared"
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
TARGET = 1.3
# CPU time, not wall time: importing is one thread's work, so on a quiet host the two are equal, and on a
# busy one (tests and other benches beside this) the CPU time is not stretched by other processes' turns.
PROBE = "import time; t = time.process_time(); import {module}; print(time.process_time() - t)"
HANDLERS = sorted(path for path in (ROOT / "functions").glob("*/*.py"))
# What every handler's first invocation needs whatever it does: boto3, the Logger and Metrics, and the
# pydantic models a link's configuration is parsed into. Printed as a floor beside the handlers.
FLOOR = "boto3, koppel.observability, koppel.config, koppel.models"
TRACING_OFF = {"POWERTOOLS_TRACE_DISABLED": "true"}
# Powertools traces in Lambda only (LAMBDA_TASK_ROOT set, not under SAM local); no daemon is asked here.
TRACING_ON = {
    "POWERTOOLS_TRACE_DISABLED": "false",
    "LAMBDA_TASK_ROOT": str(ROOT),
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
}


def environment(cache: str, code_root: Path | None, tracing: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONDONTWRITEBYTECODE", "AWS_SAM_LOCAL")}
    return (
        env
        | {
            "POWERTOOLS_SERVICE_NAME": "koppel",
            "AWS_DEFAULT_REGION": "eu-west-1",
            # The handler's own folder and the layer, as Lambda puts them on the path (/var/task, /opt/python).
            "PYTHONPATH": os.pathsep.join([str(code_root or ROOT), str(LAYER)]),
            "PYTHONPYCACHEPREFIX": cache,
        }
        | tracing
    )


def once(module: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], env=env, check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip())


def measure(module: str, code_root: Path | None, cache: str) -> tuple[float, float, float]:
    """Medians of `import boto3`, the module traced off and traced on, run in turn."""
    cases = [
        ("boto3", environment(cache, None, TRACING_OFF)),
        (module, environment(cache, code_root, TRACING_OFF)),
        (module, environment(cache, code_root, TRACING_ON)),
    ]
    samples: list[list[float]] = [[], [], []]
    for round_ in range(RUNS + 1):
        for figures, (module, env) in zip(samples, cases, strict=True):
            seconds = once(module, env)
            if round_:  # the first round writes the bytecode cache
                figures.append(seconds)
    baseline, off, on = (statistics.median(figures) for figures in samples)
    return baseline, off, on


def main() -> None:
    print(f"handler import time vs `import boto3` (baseline, measured beside each), median of {RUNS}")
    print(f"  {'function':<18} {'boto3':>7} {'tracing off':>12} {'ratio':>6} {'tracing on':>11} {'ratio':>6}")
    with tempfile.TemporaryDirectory(prefix="koppel-pycache-") as cache:
        rows = [(path.stem, path.stem, path.parent) for path in HANDLERS] + [("(floor)", FLOOR, None)]
        for name, module, code_root in rows:
            baseline, off, on = measure(module, code_root, cache)
            flag = "ok" if off / baseline <= TARGET else "over target"
            print(
                f"  {name:<18} {baseline * 1000:4.0f} ms {off * 1000:9.0f} ms {off / baseline:5.2f}x"
                f" {on * 1000:8.0f} ms {on / baseline:5.2f}x   (target <= {TARGET}x, tracing off: {flag})"
            )
    print(f"  (floor): {FLOOR}, what every handler's first invocation imports whatever it does")


if __name__ == "__main__":
    main()
