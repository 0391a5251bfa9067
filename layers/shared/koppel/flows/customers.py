"""One backoffice customer per buyer, however many of their orders arrive at once.

A backoffice that makes the customer before the order (an accounting package's debtor, a shop's customer) looks
the buyer up and creates them when missing. Two orders of a new buyer booked side by side (two
webhook deliveries, two workers of one run, two runs) would both miss and both create. So the order
that may create a customer first takes a short lock on that customer in koppel's table (per backoffice
account, keyed by a digest of the e-mail, or of name and postcode when there is no e-mail); a second
order of the same buyer waits for it, then finds the customer the first one made. A lock whose holder
died ends by itself after `LOCK_SECONDS`. An order that waited too long is given back and tried again
on the next run, never booked without its customer.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from koppel.errors import TransientConnectorError
from koppel.models import Order
from koppel.ports.orders import CustomerLocks

LOCK_SECONDS = 120  # far longer than looking up and creating one customer and one order takes
WAIT_SECONDS = 20.0
POLL_SECONDS = 0.25


class CustomerBusy(TransientConnectorError):
    """Another order of the same buyer is creating the customer; this order follows on the next run."""


def customer_key(order: Order) -> str | None:
    """Who the buyer is, the way a backoffice finds them: the e-mail, else name and postcode; None when
    the order names neither (nothing to create twice)."""
    email = order.customer.email.strip().lower()
    if email:
        identity = f"email:{email}"
    else:
        address = order.billing_address
        name = " ".join(f"{address.first_name} {address.last_name}".lower().split())
        postcode = "".join(address.postal_code.upper().split())
        if not name or not postcode:
            return None
        identity = f"name:{name}|{postcode}"
    return hashlib.sha256(identity.encode()).hexdigest()[:40]


@dataclass
class CustomerGate:
    locks: CustomerLocks
    account_id: str  # the backoffice account: links to the same backoffice share its customers
    wait_seconds: float = WAIT_SECONDS
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    @contextmanager
    def creating(self, order: Order, holder: str) -> Iterator[None]:
        """Held while `order` may create its buyer in the backoffice."""
        key = customer_key(order)
        if key is None:
            yield
            return
        deadline = self.clock() + self.wait_seconds
        while not self.locks.take(self.account_id, key, holder, LOCK_SECONDS):
            if self.clock() >= deadline:
                raise CustomerBusy(
                    "another order of the same customer is creating them in the backoffice; this order follows",
                    order_id=order.channel_order_id,
                )
            self.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            self.locks.release(self.account_id, key, holder)
