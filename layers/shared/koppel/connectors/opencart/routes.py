"""The REST Admin extension's routes, in one place: a different extension replaces this module.

Each route is written once as its path under the extension's root; `url` puts it in the account's
URL form:
- `path`: `{base_url}/api/rest_admin/{route}` (the extension's SEO URLs);
- `query`: `{base_url}/index.php?route=rest/{route}` (shops without SEO URLs).
In the path form a window bound's space goes as `%20`; in the query form the route is a parameter
value, encoded as any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import quote

HEADER = "X-Oc-Restadmin-Id"
BOUND_FORMAT = "%Y-%m-%d %H:%M:%S"  # the shop's wall time, as OpenCart writes date_modified


def orders_modified(modified_from: datetime, modified_to: datetime) -> str:
    return join(
        "orders", "details", "modified_from", modified_from.strftime(BOUND_FORMAT),
        "modified_to", modified_to.strftime(BOUND_FORMAT),
    )  # fmt: skip


def order(order_id: int | str) -> str:
    return join("orders", str(order_id))


def products_page(limit: int, page: int) -> str:
    return join("products", "limit", str(limit), "page", str(page))


def product(product_id: int | str) -> str:
    return join("products", str(product_id))


def products() -> str:
    return "products"


def join(*segments: str) -> str:
    return "/".join(segment.replace("/", "-") for segment in segments)


def url(base_url: str, style: Literal["path", "query"], route: str) -> tuple[str, dict[str, str]]:
    """(the URL, its query parameters) for a route in the account's URL form."""
    base = base_url.rstrip("/")
    if style == "query":
        return f"{base}/index.php", {"route": f"rest/{route}"}
    return f"{base}/api/rest_admin/{quote(route, safe='/:')}", {}
