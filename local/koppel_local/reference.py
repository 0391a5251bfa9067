"""Where the published API specs live: `../shared/reference` beside the repository.

Simulators validate against them when present; tests that need them skip with a clear reason
when the folder is absent. Override the location with KOPPEL_REFERENCE_DIR.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def reference_dir() -> Path:
    return Path(os.environ.get("KOPPEL_REFERENCE_DIR") or REPO_ROOT.parent / "shared" / "reference")


def reference_file(*parts: str) -> Path | None:
    """The reference file, or None when the reference folder (or the file) is not there."""
    path = reference_dir().joinpath(*parts)
    return path if path.is_file() else None


MISSING_REASON = "../shared/reference is not beside the repository (set KOPPEL_REFERENCE_DIR to point at it)"
