"""What the polled webshop connectors (Magento, PrestaShop, OpenCart) share: one write's outcome in the
words a result carries, a create sent once and looked up when its answer is lost, a create of a product
the shop has already made an update, and a shop's time zone setting."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from koppel.connectors.base import ProductPushResult, ProductUpdate, StockPushResult
from koppel.errors import ConfigurationError, NotFound, PermanentConnectorError, RateLimited, TransientConnectorError
from koppel.observability import logger

R = TypeVar("R", ProductPushResult, StockPushResult)


def written(result: type[R], sku: str, shop: str, write: Callable[[], object], *, missing: str, refused: str = "") -> R:
    """The outcome of one write to `shop` (its name in words) as `result`. `write` may return a `result` of
    its own (a refusal found before anything was sent); a set-up error or a rate limit is raised, for the
    run to stop; `missing`: the words for a 404; `refused`: the log line a refusal is warned with (none
    when empty)."""
    try:
        early = write()
    except NotFound:
        return result(sku, False, missing)
    except (ConfigurationError, RateLimited):
        raise
    except TransientConnectorError as exc:
        return result(sku, False, f"{shop} could not be reached: {exc.message}", retryable=True)
    except PermanentConnectorError as exc:
        if refused:
            logger.warning(refused, sku=sku, status=exc.context.get("status_code"))
        return result(sku, False, exc.message)
    return early if isinstance(early, result) else result(sku, True)


def created(sku: str, shop: str, create: Callable[[], object], exists: Callable[[str], bool]) -> ProductPushResult:
    """A create sent once: when its answer is lost the product may have been made, so `exists` looks for
    the SKU, and a product found there counts as made; it is never sent twice."""
    try:
        create()
    except (ConfigurationError, RateLimited):
        raise
    except TransientConnectorError as exc:
        if exists(sku):
            return ProductPushResult(sku, True)
        return ProductPushResult(sku, False, f"{shop} did not confirm the new product: {exc.message}", True)
    except PermanentConnectorError as exc:
        return ProductPushResult(sku, False, exc.message)
    return ProductPushResult(sku, True)


def create_or_update(
    updates: Sequence[ProductUpdate],
    existing: Mapping[str, str],
    update: Callable[[ProductUpdate], ProductPushResult],
    create: Callable[[ProductUpdate], ProductPushResult],
) -> list[ProductPushResult]:
    """Each product created, unless the shop has it already (`existing`: SKU → the shop's ref for it): then
    it is updated under that ref instead."""
    results: list[ProductPushResult] = []
    for wanted in updates:
        ref = existing.get(wanted.product.sku)
        results.append(update(replace(wanted, channel_ref=ref)) if ref else create(wanted))
    return results
