"""Cold start: each handler module's import time, as a ratio to `import boto3` alone. Target <= 1.3x.

Each figure is the median of fresh interpreters (no bytecode-cache effects after the first), with
the environment a deployed function has (Powertools settings, tracing off as in a local run).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
HANDLERS = sorted(path for path in (ROOT / "functions").glob("*/*.py"))


def measure(module: str, code_root: Path | None = None) -> float:
    env = os.environ | {
        "POWERTOOLS_SERVICE_NAME": "koppel",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "PYTHONPATH": str(code_root or ""),
    }
    samples = []
    for _ in range(RUNS + 1):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)], env=env, check=True, capture_output=True, text=True
        )
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples[1:])  # the first run writes bytecode caches


def main() -> None:
    baseline = measure("boto3")
    print(f"handler import time vs `import boto3` ({baseline * 1000:.0f} ms, baseline), median of {RUNS}")
    for path in HANDLERS:
        seconds = measure(path.stem, path.parent)
        flag = "ok" if seconds / baseline <= 1.3 else "over target"
        ratio = seconds / baseline
        print(f"  {path.stem:<20} {seconds * 1000:7.0f} ms   ratio {ratio:4.2f}x   (target <= 1.3x: {flag})")


if __name__ == "__main__":
    main()
