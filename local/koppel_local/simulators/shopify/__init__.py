"""The Shopify Admin GraphQL simulator (see `app`), with what tests and the demo import from it."""

from koppel_local.simulators.kit import Fault, LeakyBucket
from koppel_local.simulators.shopify.app import ShopifySimulator, load_schema
from koppel_local.simulators.shopify.common import (
    MUTATION_COST,
    PATH,
    SCHEMA_FILE,
    SINGLE_QUERY_MAX,
    STANDARD_BUCKET,
    STANDARD_RESTORE_RATE,
    Document,
    FieldError,
    Term,
)

__all__ = [
    "MUTATION_COST",
    "PATH",
    "SCHEMA_FILE",
    "SINGLE_QUERY_MAX",
    "STANDARD_BUCKET",
    "STANDARD_RESTORE_RATE",
    "Document",
    "Fault",
    "FieldError",
    "LeakyBucket",
    "ShopifySimulator",
    "Term",
    "load_schema",
]
