"""A SnelStart B2B API v2 simulator on the kit: one administration's relaties, artikelen, verkooporders
and verkoopfacturen, behind SnelStart's token endpoint and the API gateway's subscription key.

It follows `../shared/reference/snelstart/snelstart-b2b-api-v2.openapi.yaml` (OpenAPI 3.0.1), with
`../shared/reference/FACTS-systems-2.md` §1.2 for what the spec leaves out. Every request and every
2xx answer is checked against that document (strict: a request off it is refused 400 in SnelStart's
error shape and fails the test that sent it). Without the reference file, loading the contract
raises `ReferenceMissing` and the tests that need it are skipped.

What it serves, under `/v2`: `GET|POST /artikelen`, `GET /artikelen/{id}`, `GET /artikelomzetgroepen`,
`GET|POST /relaties`, `GET /relaties/{id}`, `GET|POST /verkooporders`, `GET /verkooporders/{id}`,
`GET /verkoopfacturen`, `GET /actieprijzen`; and `POST /b2b/token` (SnelStart's auth host).

- Auth: `grant_type=clientkey&clientkey=…` gives a bearer token of 3599 s for a client key the
  simulator knows; every API call needs `Ocp-Apim-Subscription-Key` (401 in the gateway's own
  `{statusCode, message}` shape without it) and a live token (401). Each client key carries scopes
  (`orders:read`, `artikelen:read`, …); an operation whose scope the token lacks is 403, named in
  the answer. The scope per operation is the spec's; the 403 body is not published (made up here).
- Lists take OData `$skip`, `$top` (the spec's maximum per list: 25 for artikelen, 500 for the
  others) and `$filter` (`odata.py`: a small subset, anything else refused 400); the spec declares
  no `$orderby`, so lists come in the order their objects were made (unverified).
- Errors are SnelStart's JSON array `[{"errorCode", "message", "details"}]`, a validation error
  with `modelState` (the codes the simulator uses are made up, the shape is the published one).
- Every change to an artikel stamps its `modifiedOn` from the simulator's wall clock, never earlier
  than the last stamp plus a microsecond, so each change is later than the one before; every answer
  carries the gateway's `Date` header from the same clock.
- A verkooporder is refused unless its relatie and every line's artikel exist. Its totals are
  computed from the lines (VAT inclusive or exclusive, the omzetgroep's Dutch rate). Taking an order
  lowers the free stock (`vrijeVoorraad`) of its stock-keeping articles and `deliver` lowers the
  technical stock: how SnelStart moves stock is not published, this is a guess (unverified).
- Rate limits: SnelStart publishes none; `rate_limit` imitates the gateway's 429 with `Retry-After`.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import count
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from koppel_local.simulators.kit import (
    BearerTokens,
    ClaimedViolations,
    Contract,
    ContractViolation,
    Fault,
    FixedWindows,
    OpenApiContract,
    PlannedFaults,
    RateLimit,
    WsgiSimulator,
    load_openapi,
    route,
)
from koppel_local.simulators.snelstart.odata import FilterError, parse_filter

SPEC = ("snelstart", "snelstart-b2b-api-v2.openapi.yaml")
BASE = "/v2"
TOKEN_PATH = "/b2b/token"  # noqa: S105 - a path, not a secret
DEMO_SUBSCRIPTION_KEY = "snelstart-demo-subscription-key"
DEMO_CLIENT_KEY = "snelstart-demo-koppelsleutel"
TOKEN_SECONDS = 3599
SCOPES = frozenset(
    {"artikelen:read", "artikelen:write", "relaties:read", "relaties:write", "orders:read", "orders:write"}
    | {"settings:read"}
)
VAT = {"Hoog": Decimal(21), "Laag": Decimal(9), "Geen": Decimal(0), "Overig": Decimal(0)}
CENT = Decimal("0.01")

ROUTES = (
    route("POST", TOKEN_PATH, "token", "_token", public=True),
    route("GET", rf"{BASE}/artikelen", "artikelen", "_list_artikelen"),
    route("POST", rf"{BASE}/artikelen", "artikelen-create", "_create_artikel"),
    route("GET", rf"{BASE}/artikelen/(?P<artikel_id>[^/]+)", "artikel", "_get_artikel"),
    route("GET", rf"{BASE}/artikelomzetgroepen", "omzetgroepen", "_list_omzetgroepen"),
    route("GET", rf"{BASE}/relaties", "relaties", "_list_relaties"),
    route("POST", rf"{BASE}/relaties", "relaties-create", "_create_relatie"),
    route("GET", rf"{BASE}/relaties/(?P<relatie_id>[^/]+)", "relatie", "_get_relatie"),
    route("GET", rf"{BASE}/verkooporders", "verkooporders", "_list_verkooporders"),
    route("POST", rf"{BASE}/verkooporders", "verkooporders-create", "_create_verkooporder"),
    route("GET", rf"{BASE}/verkooporders/(?P<order_id>[^/]+)", "verkooporder", "_get_verkooporder"),
    route("GET", rf"{BASE}/verkoopfacturen", "verkoopfacturen", "_list_verkoopfacturen"),
    route("GET", rf"{BASE}/actieprijzen", "actieprijzen", "_list_actieprijzen"),
)

# The scope each endpoint group needs, from the operations' descriptions in the spec.
SCOPE_OF = {
    "artikelen": "artikelen:read",
    "artikel": "artikelen:read",
    "artikelen-create": "artikelen:write",
    "omzetgroepen": "artikelen:read",
    "relaties": "relaties:read",
    "relatie": "relaties:read",
    "relaties-create": "relaties:write",
    "verkooporders": "orders:read",
    "verkooporder": "orders:read",
    "verkooporders-create": "orders:write",
    "verkoopfacturen": "orders:read",
    "actieprijzen": "settings:read",
}
TOP_MAXIMUM = {"artikelen": 25}  # the spec's `$top` maximum; 500 for every other list
DEFAULT_TOP = 500


def load_contract() -> OpenApiContract:
    """The SnelStart contract; raises `ReferenceMissing` when the reference file is absent."""
    return load_openapi(*SPEC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def identifier(kind: str, object_id: str) -> dict[str, str]:
    return {"id": object_id, "uri": f"/{kind}/{object_id}"}


class SnelStartSimulator(ClaimedViolations, PlannedFaults, WsgiSimulator):
    """One SnelStart administration, reached through the B2B API v2."""

    system = "SnelStart simulator"
    routes = ROUTES
    untargeted_fault_skip = ("token",)

    def __init__(
        self,
        *,
        contract: Contract | None,
        subscription_key: str = DEMO_SUBSCRIPTION_KEY,
        client_keys: Mapping[str, Iterable[str]] | None = None,
        rate_limit: RateLimit | None = None,
        latency_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], datetime] | None = None,
    ) -> None:
        """`contract`: `load_contract()`, or None to serve unchecked (only where the reference is absent).
        `client_keys`: koppelsleutel -> its scopes (default: the demo key with every scope).
        `wall`: the administration's wall clock (modifiedOn, the `Date` header)."""
        self.wall = wall or (lambda: datetime.now(UTC))
        self.setup_kit(clock=clock, sleep=sleep, latency_seconds=latency_seconds, dated=self.wall)
        self.contract = contract
        self.subscription_key = subscription_key
        self.client_keys = {
            key: frozenset(scopes) for key, scopes in (client_keys or {DEMO_CLIENT_KEY: SCOPES}).items()
        }
        self.tokens = BearerTokens(clock=clock)
        self.token_scopes: dict[str, frozenset[str]] = {}
        self.token_requests = 0
        self.rate_limit = rate_limit
        self.windows = FixedWindows()
        self._last_stamp = datetime(2000, 1, 1, tzinfo=UTC)
        self.artikelen: dict[str, dict[str, Any]] = {}
        self.omzetgroepen: dict[str, dict[str, Any]] = {}
        self.relaties: dict[str, dict[str, Any]] = {}
        self.verkooporders: dict[str, dict[str, Any]] = {}
        self.verkoopfacturen: dict[str, dict[str, Any]] = {}
        self.actieprijzen: list[dict[str, Any]] = []
        self._order_numbers = count(1)
        self._relatie_codes = count(1)
        self._invoice_numbers = count(1)
        self.default_omzetgroep = self.add_omzetgroep("Omzet hoog", "Hoog")

    # --- state API for tests and the demo -------------------------------------------------------
    def _stamp(self, at: datetime | None = None) -> str:
        """The next modifiedOn: `at` as given (a test's chosen moment), else the wall clock, never
        earlier than the last stamp plus a microsecond."""
        if at is not None:
            self._last_stamp = max(self._last_stamp, at)
            return stamp(at)
        moment = max(self.wall(), self._last_stamp + timedelta(microseconds=1))
        self._last_stamp = moment
        return stamp(moment)

    def add_client_key(self, key: str, scopes: Iterable[str] = SCOPES) -> None:
        with self._lock:
            self.client_keys[key] = frozenset(scopes)

    def expire_all(self) -> None:
        """Every token handed out so far runs out now (SnelStart letting a token go early)."""
        with self._lock:
            self.tokens.expire_all()

    def add_omzetgroep(self, omschrijving: str, btw_soort: str = "Hoog") -> str:
        group_id = str(uuid.uuid4())
        with self._lock:
            self.omzetgroepen[group_id] = {
                "nummer": len(self.omzetgroepen) + 1,
                "omschrijving": omschrijving,
                "verkoopNederlandBtwSoort": btw_soort,
                **identifier("artikelomzetgroepen", group_id),
            }
        return group_id

    def add_article(
        self,
        code: str,
        omschrijving: str,
        price: Decimal | str = "0",
        *,
        technical: Decimal | int = 0,
        free: Decimal | int | None = None,
        stock_control: bool = True,
        inactive: bool = False,
        omzetgroep: str | None = None,
        extra: Mapping[str, str] | None = None,
        eenheid: str = "stuk",
        at: datetime | None = None,
    ) -> str:
        """An artikel, as the merchant makes it in SnelStart; its id."""
        artikel_id = str(uuid.uuid4())
        with self._lock:
            self.artikelen[artikel_id] = {
                "artikelcode": code,
                "omschrijving": omschrijving,
                "artikelOmzetgroep": identifier("artikelomzetgroepen", omzetgroep or self.default_omzetgroep),
                "verkoopprijs": Decimal(str(price)),
                "inkoopprijs": Decimal(0),
                "eenheid": eenheid,
                "modifiedOn": self._stamp(at),
                "isNonActief": inactive,
                "voorraadControle": stock_control,
                "technischeVoorraad": Decimal(technical),
                "vrijeVoorraad": Decimal(technical if free is None else free),
                "extraVelden": [{"naam": name, "waarde": value} for name, value in (extra or {}).items()],
                "isHoofdartikel": False,
                "subartikelen": [],
                **identifier("artikelen", artikel_id),
            }
        return artikel_id

    def article(self, code: str) -> dict[str, Any]:
        with self._lock:
            return next(artikel for artikel in self.artikelen.values() if artikel["artikelcode"] == code)

    def set_stock(
        self, code: str, technical: Decimal | int, free: Decimal | int | None = None, *, at: datetime | None = None
    ) -> None:
        """A count or a booking in SnelStart: the article's technical and free stock (free defaults to
        technical), its modifiedOn moved on (to `at`, when the test names the moment)."""
        with self._lock:
            artikel = self.article(code)
            artikel["technischeVoorraad"] = Decimal(technical)
            artikel["vrijeVoorraad"] = Decimal(technical if free is None else free)
            artikel["modifiedOn"] = self._stamp(at)

    def set_price(self, code: str, price: Decimal | str) -> None:
        with self._lock:
            artikel = self.article(code)
            artikel["verkoopprijs"] = Decimal(str(price))
            artikel["modifiedOn"] = self._stamp()

    def set_field(self, code: str, **fields: Any) -> None:
        """Any other change to the article (its description, its active flag)."""
        with self._lock:
            artikel = self.article(code)
            artikel.update(fields)
            artikel["modifiedOn"] = self._stamp()

    def add_relatie(
        self,
        naam: str,
        *,
        email: str = "",
        postcode: str = "",
        straat: str = "",
        plaats: str = "",
        soort: str = "Klant",
    ) -> str:
        relatie_id = str(uuid.uuid4())
        with self._lock:
            self.relaties[relatie_id] = self._relatie(
                relatie_id,
                {
                    "relatiesoort": [soort],
                    "naam": naam,
                    "email": email,
                    "vestigingsAdres": {"straat": straat, "postcode": postcode, "plaats": plaats},
                },
            )
        return relatie_id

    def _relatie(self, relatie_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        relatie = {key: copy.deepcopy(value) for key, value in fields.items() if key not in ("id", "uri")}
        relatie.setdefault("relatiesoort", ["Klant"])
        relatie.update(
            relatiecode=next(self._relatie_codes),
            modifiedOn=self._stamp(),
            nonactief=False,
            **identifier("relaties", relatie_id),
        )
        return relatie

    def add_invoice(self, relatie_id: str, amount: Decimal | str, *, open_amount: Decimal | str | None = None) -> str:
        """A sales invoice booked for the relatie; `open_amount` what is still unpaid (default: all of it)."""
        invoice_id = str(uuid.uuid4())
        total = Decimal(str(amount))
        with self._lock:
            moment = self._stamp()
            self.verkoopfacturen[invoice_id] = {
                "factuurnummer": str(20260000 + next(self._invoice_numbers)),
                "relatie": identifier("relaties", relatie_id),
                "factuurBedrag": total,
                "openstaandSaldo": total if open_amount is None else Decimal(str(open_amount)),
                "factuurDatum": moment,
                "vervalDatum": moment,
                "modifiedOn": moment,
                "verkoopOrders": [],
                **identifier("verkoopfacturen", invoice_id),
            }
        return invoice_id

    def pay_invoice(self, invoice_id: str, amount: Decimal | str | None = None) -> None:
        """A payment booked against the invoice (all of what is open, by default)."""
        with self._lock:
            invoice = self.verkoopfacturen[invoice_id]
            paid = invoice["openstaandSaldo"] if amount is None else Decimal(str(amount))
            invoice["openstaandSaldo"] -= paid
            invoice["modifiedOn"] = self._stamp()

    def add_action_price(self, omschrijving: str, prices: Mapping[str, Decimal], *, status: str = "Actief") -> None:
        """An actieprijs (a price action) for some articles, at a fixed sales price each."""
        with self._lock:
            self.actieprijzen.append(
                {
                    "omschrijving": omschrijving,
                    "startdatum": stamp(datetime(2026, 1, 1, tzinfo=UTC)),
                    "einddatum": stamp(datetime(2030, 1, 1, tzinfo=UTC)),
                    "status": status,
                    "artikelPrijzen": [
                        {
                            "artikelcode": code,
                            "artikelOmschrijving": self.article(code)["omschrijving"],
                            "prijsIngave": "Bedrag",
                            "prijzen": [{"vanaf": Decimal(1), "verkoopprijs": Decimal(str(price))}],
                        }
                        for code, price in prices.items()
                    ],
                }
            )

    def orders_with_reference(self, reference: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(o) for o in self.verkooporders.values() if o.get("orderreferentie") == reference]

    def deliver(self, order_id: str) -> None:
        """The order delivered in SnelStart: its units leave the technical stock (unverified how SnelStart does it)."""
        with self._lock:
            order = self.verkooporders[order_id]
            for regel in order.get("regels") or ():
                artikel = self.artikelen.get((regel.get("artikel") or {}).get("id", ""))
                if artikel is not None and artikel["voorraadControle"]:
                    artikel["technischeVoorraad"] -= Decimal(str(regel.get("aantal") or 0))
                    artikel["modifiedOn"] = self._stamp()
            order["verkoopOrderStatus"] = "Uitgevoerd"

    # --- the kit's hooks, in SnelStart's words --------------------------------------------------
    def contract_for(self, request: Request) -> tuple[Contract | None, str]:
        return self.contract, request.path

    def authenticate(self, request: Request) -> Response | None:
        given = request.headers.get("Ocp-Apim-Subscription-Key") or request.args.get("subscription-key")
        if not given or not secrets.compare_digest(given, self.subscription_key):
            reason = "missing" if not given else "invalid"
            return gateway(401, f"Access denied due to {reason} subscription key. Make sure to provide a valid key.")
        failure = self.tokens.check(request)
        if failure is not None:
            return gateway(401, f"Unauthorized: {failure.detail}")
        found, _ = self.match(request)
        needed = SCOPE_OF.get(found.group) if found is not None else None
        token = request.authorization.token if request.authorization else ""
        if needed and needed not in self.token_scopes.get(token or "", frozenset()):
            return errors(403, "AUTH-403", f"the token lacks the scope {needed}")
        return None

    def admit(self, request: Request, group: str) -> tuple[Response | None, Mapping[str, str]]:
        if self.rate_limit is None or group == "token":
            return None, {}
        admission = self.windows.admit("api", self.rate_limit, self._clock())
        if admission.admitted:
            return None, {}
        refusal = gateway(429, f"Rate limit is exceeded. Try again in {admission.reset_seconds} seconds.")
        refusal.headers["Retry-After"] = str(admission.reset_seconds)
        return refusal, {}

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.status == 429:
            refusal = gateway(429, "Rate limit is exceeded. Try again in 1 seconds.")
            refusal.headers["Retry-After"] = str(fault.retry_after or 1)
            return refusal
        if fault.status >= 500:
            return Response(HTTP_STATUS_CODES.get(fault.status, "Error"), fault.status, content_type="text/plain")
        return errors(fault.status, f"SIM-{fault.status}", HTTP_STATUS_CODES.get(fault.status, "Error"))

    def refuse(self, request: Request, error: ContractViolation) -> Response:
        state = {violation.name: [violation.reason] for violation in error.violations}
        body = [{"errorCode": "VAL-0001", "message": "De aanvraag is ongeldig.", "details": None, "modelState": state}]
        return answer(400, body)

    def not_served(self, request: Request) -> Response:
        return errors(501, "SIM-501", f"the simulator does not serve {request.method} {request.path}")

    # --- token ----------------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        self.token_requests += 1
        if request.form.get("grant_type") != "clientkey":
            return answer(400, {"error": "unsupported_grant_type"})
        key = request.form.get("clientkey") or ""
        scopes = self.client_keys.get(key)
        if scopes is None:
            return answer(400, {"error": "invalid_grant", "error_description": "invalid client key"})
        token = self.tokens.add(TOKEN_SECONDS)
        self.token_scopes[token] = scopes
        return answer(200, {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_SECONDS})

    # --- lists ----------------------------------------------------------------------------------
    def _listed(self, request: Request, rows: Iterable[dict[str, Any]], group: str) -> Response:
        args = request.args
        rows = list(rows)
        if args.get("$filter"):
            try:
                keep = parse_filter(args["$filter"])
            except FilterError as exc:
                return errors(400, "ODATA-0001", f"$filter: {exc}")
            rows = [row for row in rows if keep(row)]
        skip = int(args.get("$skip") or 0)
        top = int(args.get("$top") or min(DEFAULT_TOP, TOP_MAXIMUM.get(group, DEFAULT_TOP)))
        return answer(200, copy.deepcopy(rows[skip : skip + top]))

    def _list_artikelen(self, request: Request) -> Response:
        return self._listed(request, self.artikelen.values(), "artikelen")

    def _get_artikel(self, request: Request, artikel_id: str) -> Response:
        artikel = self.artikelen.get(artikel_id)
        if artikel is None:
            return errors(404, "ART-0404", "Het artikel bestaat niet.")
        return answer(200, artikel)

    def _create_artikel(self, request: Request) -> Response:
        body = json.loads(request.get_data(as_text=True) or "{}", parse_float=Decimal)
        code = str(body.get("artikelcode") or "")
        if not code:
            return errors(400, "ART-0001", "De artikelcode is verplicht.", field="artikelcode")
        if any(artikel["artikelcode"] == code for artikel in self.artikelen.values()):
            return errors(400, "ART-0002", f"Artikelcode {code} bestaat al.", field="artikelcode")
        artikel_id = self.add_article(code, str(body.get("omschrijving") or ""), body.get("verkoopprijs") or 0)
        return answer(201, self.artikelen[artikel_id])

    def _list_omzetgroepen(self, request: Request) -> Response:
        return answer(200, list(self.omzetgroepen.values()))

    def _list_relaties(self, request: Request) -> Response:
        return self._listed(request, self.relaties.values(), "relaties")

    def _get_relatie(self, request: Request, relatie_id: str) -> Response:
        relatie = self.relaties.get(relatie_id)
        if relatie is None:
            return errors(404, "REL-0404", "De relatie bestaat niet.")
        return answer(200, relatie)

    def _create_relatie(self, request: Request) -> Response:
        body = json.loads(request.get_data(as_text=True) or "{}", parse_float=Decimal)
        if not str(body.get("naam") or "").strip():
            return errors(400, "REL-0001", "De naam van de relatie is verplicht.", field="naam")
        relatie_id = str(uuid.uuid4())
        self.relaties[relatie_id] = self._relatie(relatie_id, body)
        return answer(201, self.relaties[relatie_id])

    def _list_verkooporders(self, request: Request) -> Response:
        return self._listed(request, self.verkooporders.values(), "verkooporders")

    def _get_verkooporder(self, request: Request, order_id: str) -> Response:
        order = self.verkooporders.get(order_id)
        if order is None:
            return errors(404, "ORD-0404", "De verkooporder bestaat niet.")
        return answer(200, order)

    def _create_verkooporder(self, request: Request) -> Response:
        body = json.loads(request.get_data(as_text=True) or "{}", parse_float=Decimal)
        relatie = (body.get("relatie") or {}).get("id")
        if relatie not in self.relaties:
            return errors(400, "ORD-0001", f"De relatie {relatie} bestaat niet.", field="relatie")
        if body.get("procesStatus") in ("Contantbon", "Factuur"):
            return errors(400, "ORD-0002", "Deze processtatus kan niet worden opgegeven.", field="procesStatus")
        inclusive = body.get("verkooporderBtwIngaveModel", "Inclusief") == "Inclusief"
        regels: list[dict[str, Any]] = []
        gross = net = Decimal(0)
        for index, regel in enumerate(body.get("regels") or ()):
            artikel_id = (regel.get("artikel") or {}).get("id")
            artikel = self.artikelen.get(artikel_id or "")
            if artikel_id and artikel is None:
                return errors(400, "ORD-0003", f"Het artikel {artikel_id} bestaat niet.", field=f"regels[{index}]")
            quantity = Decimal(str(regel.get("aantal") or 0))
            price = Decimal(str(regel.get("stuksprijs") or 0))
            discount = Decimal(str(regel.get("kortingsPercentage") or 0))
            total = (quantity * price * (100 - discount) / 100).quantize(CENT, ROUND_HALF_UP)
            rate = (
                VAT[self.omzetgroepen[artikel["artikelOmzetgroep"]["id"]]["verkoopNederlandBtwSoort"]] if artikel else 0
            )
            if inclusive:
                gross, net = gross + total, net + (total * 100 / (100 + rate)).quantize(CENT, ROUND_HALF_UP)
            else:
                gross, net = gross + (total * (100 + rate) / 100).quantize(CENT, ROUND_HALF_UP), net + total
            kept = {**copy.deepcopy(regel), "totaal": total}
            if artikel is not None:
                kept["artikel"] = identifier("artikelen", artikel_id or "")
                kept.setdefault("omschrijving", artikel["omschrijving"])
            regels.append(kept)
        order_id = str(uuid.uuid4())
        order = {key: copy.deepcopy(value) for key, value in body.items() if key not in ("id", "uri", "nummer")}
        order.update(
            relatie=identifier("relaties", relatie),
            procesStatus=body.get("procesStatus") or "Order",
            verkoopOrderStatus=body.get("verkoopOrderStatus") or "InBehandeling",
            nummer=next(self._order_numbers),
            modifiedOn=self._stamp(),
            regels=regels,
            totaalInclusiefBtw=gross,
            totaalExclusiefBtw=net,
            **identifier("verkooporders", order_id),
        )
        self.verkooporders[order_id] = order
        for regel in regels:  # the order reserves its units: free stock goes down (unverified)
            artikel = self.artikelen.get((regel.get("artikel") or {}).get("id", ""))
            if artikel is not None and artikel["voorraadControle"]:
                artikel["vrijeVoorraad"] -= Decimal(str(regel.get("aantal") or 0))
                artikel["modifiedOn"] = self._stamp()
        return answer(201, order)

    def _list_verkoopfacturen(self, request: Request) -> Response:
        return self._listed(request, self.verkoopfacturen.values(), "verkoopfacturen")

    def _list_actieprijzen(self, request: Request) -> Response:
        return self._listed(request, self.actieprijzen, "actieprijzen")


def answer(status: int, body: Any) -> Response:
    return Response(json.dumps(body, default=_number), status, content_type="application/json")


def errors(status: int, code: str, message: str, *, field: str = "") -> Response:
    """SnelStart's error answer: a JSON array of `{errorCode, message, details}`."""
    entry: dict[str, Any] = {"errorCode": code, "message": message, "details": None}
    if field:
        entry["modelState"] = {field: [message]}
    return answer(status, [entry])


def gateway(status: int, message: str) -> Response:
    """The API gateway's own refusal (no subscription key, rate limit), before SnelStart sees the call."""
    return answer(status, {"statusCode": status, "message": message})


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)  # the shortest float repr of a two-decimal amount gives back its digits
    raise TypeError(f"{type(value).__name__} is not JSON")
