"""Flow: what each customer owes on open sales invoices, from the backoffice (accounting) onto their
webshop account, for links that name the webshop's customer attribute (`balances.attribute`).

A run reads the backoffice's customers a page at a time from where the last run stopped (a cursor per
link), so a large ledger spans several runs, and starts over once it is through. An amount goes to the
webshop only when it differs from the one last accepted for that e-mail, so an unchanged ledger costs
the webshop nothing. An e-mail with no webshop account is reported and tried again only when its
amount changes; a refusal worth retrying is sent again next run. Koppel keeps a digest of the e-mail,
never the address itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from koppel.config import Link
from koppel.connectors.base import BalanceSource, BalanceTarget, CustomerBalance
from koppel.errors import ConfigurationError
from koppel.ports.products import BalanceRecords

BATCH = 50


@dataclass
class BalanceReport:
    read: int = 0
    written: int = 0
    unchanged: int = 0
    no_account: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # customer ref → reason (never the e-mail)
    retry: int = 0
    would_write: int = 0
    finished_pass: bool = False

    def summary(self) -> str:
        done = f"would write {self.would_write}" if self.would_write else f"wrote {self.written}"
        parts = [f"{self.read} customer balance(s) read, {done}, {self.unchanged} unchanged"]
        if self.no_account:
            parts.append(f"{self.no_account} without a webshop account")
        if self.refused:
            parts.append("refused: " + "; ".join(f"{ref}: {why}" for ref, why in sorted(self.refused.items())))
        if self.retry:
            parts.append(f"{self.retry} to retry next run")
        parts.append("ledger done, next run starts over" if self.finished_pass else "continues next run")
        return "; ".join(parts)


def customer_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]


def amount_text(balance: CustomerBalance) -> str:
    return f"{balance.open_amount.amount.quantize(Decimal('0.01'))} {balance.open_amount.currency}"


def sync_balances(
    link: Link,
    *,
    source: BalanceSource,
    target: BalanceTarget,
    records: BalanceRecords,
    out_of_time: Callable[[], bool] = lambda: False,
) -> BalanceReport:
    attribute = link.balances.attribute
    if not attribute:
        raise ConfigurationError(
            "the balances flow needs the webshop's customer attribute: set balances.attribute",
            field="balances.attribute",
        )
    report = BalanceReport()
    cursor = records.cursor(link.link_id)
    while True:
        page = source.balance_page(cursor)
        report.read += len(page.balances)
        _sync_page(link, attribute, [b for b in page.balances if b.email], target, records, report)
        cursor = page.cursor
        if not link.dry_run:
            records.set_cursor(link.link_id, cursor)
        if cursor is None:
            report.finished_pass = True
            return report
        if out_of_time():
            return report


def _sync_page(
    link: Link,
    attribute: str,
    balances: list[CustomerBalance],
    target: BalanceTarget,
    records: BalanceRecords,
    report: BalanceReport,
) -> None:
    keys = {id(balance): customer_digest(balance.email) for balance in balances}
    sent = records.sent(link.link_id, list(dict.fromkeys(keys.values())))
    changed = []
    for balance in balances:
        before = sent.get(keys[id(balance)], "")
        if before.split("|", 1)[0] == amount_text(balance):
            report.unchanged += 1  # accepted, or no account, at this amount already
        else:
            changed.append(balance)
    if link.dry_run:
        report.would_write += len(changed)
        return
    for start in range(0, len(changed), BATCH):
        chunk = changed[start : start + BATCH]
        for balance, result in zip(chunk, target.push_balances(chunk, attribute), strict=True):
            key = keys[id(balance)]
            if result.accepted:
                report.written += 1
                records.put(link.link_id, key, f"{amount_text(balance)}|written")
            elif result.retryable:
                report.retry += 1
            elif "no customer account" in result.error:
                report.no_account += 1
                records.put(link.link_id, key, f"{amount_text(balance)}|no account")
            else:
                report.refused[balance.customer_ref or key[:8]] = result.error
                records.put(link.link_id, key, f"{amount_text(balance)}|refused: {result.error}")
