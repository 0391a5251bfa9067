"""The OpenCart simulator (a shop with the REST Admin extension; see `app`), with what tests and the demo import."""

from koppel_local.simulators.opencart.app import DEMO_SECRET, HEADER, ROUTES, OpenCartSimulator, item
from koppel_local.simulators.opencart.shapes import SOURCE, OpenCartShapes

__all__ = ["DEMO_SECRET", "HEADER", "ROUTES", "SOURCE", "OpenCartShapes", "OpenCartSimulator", "item"]
