"""What every external-system simulator builds on.

- `contract`: the one `Contract` interface, `Violation`, `ContractViolation`, `ReferenceMissing`;
- `openapi`: OpenAPI 3.0 and Swagger 2.0 documents (bol, KORONA, SnelStart, Magento);
- `graphql`: GraphQL documents against an SDL schema (Shopify);
- `xml_shape`: XML bodies against a documented resource shape (PrestaShop);
- `faults`, `limits`, `paging`, `log`, `auth`: the tools a simulator imitates a system with;
- `shop`: a shop's clock, its planned faults and a proxy's rate limit, as mixins;
- `strict` and `pytest_plugin`: violations that fail the test which caused them;
- `base`: `WsgiSimulator`, the app a simulator subclasses.
"""

from koppel_local.simulators.kit.auth import (
    AuthFailure,
    BasicAuth,
    BearerTokens,
    ClientCredentials,
    HeaderKey,
    WebhookSender,
    hmac_signature,
    signature_matches,
)
from koppel_local.simulators.kit.base import RecordedViolation, Route, WsgiSimulator, json_response, route
from koppel_local.simulators.kit.contract import (
    Answer,
    Call,
    CheckingContract,
    Contract,
    ContractViolation,
    ReferenceMissing,
    Violation,
)
from koppel_local.simulators.kit.faults import Fault, FaultPlan
from koppel_local.simulators.kit.graphql import GraphQLContract, load_graphql, load_sdl
from koppel_local.simulators.kit.limits import (
    Admission,
    DailyCap,
    FixedWindows,
    LeakyBucket,
    ParallelWriteCap,
    RateLimit,
)
from koppel_local.simulators.kit.log import LoggedRequest, RequestLog
from koppel_local.simulators.kit.openapi import OpenApiContract, load_openapi
from koppel_local.simulators.kit.paging import CursorPage, cursor_page, offset_window, page_of
from koppel_local.simulators.kit.shop import ClaimedViolations, PlannedFaults, ShopClock, ShopThrottle
from koppel_local.simulators.kit.strict import ViolationLog
from koppel_local.simulators.kit.xml_shape import XmlField, XmlShape, load_prestashop_shape

__all__ = [
    "Admission",
    "Answer",
    "AuthFailure",
    "BasicAuth",
    "BearerTokens",
    "Call",
    "CheckingContract",
    "ClaimedViolations",
    "ClientCredentials",
    "Contract",
    "ContractViolation",
    "CursorPage",
    "DailyCap",
    "Fault",
    "FaultPlan",
    "FixedWindows",
    "GraphQLContract",
    "HeaderKey",
    "LeakyBucket",
    "LoggedRequest",
    "OpenApiContract",
    "ParallelWriteCap",
    "PlannedFaults",
    "RateLimit",
    "RecordedViolation",
    "ReferenceMissing",
    "RequestLog",
    "Route",
    "ShopClock",
    "ShopThrottle",
    "Violation",
    "ViolationLog",
    "WebhookSender",
    "WsgiSimulator",
    "XmlField",
    "XmlShape",
    "cursor_page",
    "hmac_signature",
    "json_response",
    "load_graphql",
    "load_openapi",
    "load_prestashop_shape",
    "load_sdl",
    "offset_window",
    "page_of",
    "route",
    "signature_matches",
]
