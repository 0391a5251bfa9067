"""Connectors: one module per external system, each behind the small protocols in `base`."""
