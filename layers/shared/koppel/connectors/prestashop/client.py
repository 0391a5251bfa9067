"""PrestaShop's webservice over HTTP: the webservice key as the Basic user, paths under `/api`, lists asked
with `display`, `filter[...]`, `sort` and `limit`, XML in and out, and PrestaShop's error bodies in words.

Facts (../shared/reference/prestashop/webservice-docs-8.x/, FACTS-systems-2.md §1.7):
- the key is the Basic user, the password empty; a key lacks rights per resource and method;
- a list takes `display=full` (or `[field,...]`), `filter[field]=[a|b]` (any of), `[a,b]` (an interval),
  `sort=[field_ASC,other_DESC]`, `limit=offset,count`, and `date=1` whenever a filter or sort is on a date;
- a PUT replaces the whole resource (so an update is the record as read, changed, sent back whole);
  `ps_method=PUT` on a POST does the same where a host's firewall refuses PUT (shared hosts' mod_security);
- an error is `<prestashop><errors><error><code/><message/></error></errors></prestashop>`;
- PrestaShop core has no rate limit; a 429 or 5xx from a host in front is retried.

XML, not JSON: `output_format=JSON` exists for answers, but PrestaShop reads only XML (8.1 cannot take
JSON input), and an update sends back the record as it was read; one format both ways keeps every field
(multilingual ones, associations) exactly as the shop gave it. Every answer is parsed with defusedxml and
refused if it declares a DTD: no entity is ever expanded, no external one fetched.
"""

from __future__ import annotations

import base64
from collections.abc import Generator, Iterable, Mapping
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from koppel.connectors.http import Clock, HttpApi, HttpStatusError, RetryPolicy
from koppel.connectors.prestashop.settings import PrestaShopSettings
from koppel.connectors.wire import chunks, sent_once
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    NotFound,
    PermanentConnectorError,
    TransientConnectorError,
)

SYSTEM = "prestashop"
UNAUTHORIZED_HELP = (
    "PrestaShop refused the webservice key (401): copy the key from Advanced Parameters > Webservice into the "
    "account's secret as ws_key, check that the key and the webservice are enabled, and that the key has the "
    "rights koppel needs per resource: GET on orders, customers, addresses, countries, currencies, products, "
    "combinations, stock_availables, tax_rules and taxes; PUT and POST on products; PUT on stock_availables"
)
PUT_REFUSED_HELP = (
    "the shop's host refuses PUT requests (405, often a mod_security rule on shared hosting), even as POST with "
    "ps_method=PUT: ask the host to allow PUT for /api, or to let the ps_method override through"
)
# Characters that cannot stand in a `filter[...]` value: they are its own syntax.
FILTER_SYNTAX = frozenset("[]|,%!<>")


class WebserviceKey(httpx.Auth):
    """The key as the Basic user with an empty password; the refusal's body is kept for the error's words."""

    requires_response_body = True

    def __init__(self, key: str) -> None:
        self._header = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        self.refusal = ""

    def __repr__(self) -> str:
        return "WebserviceKey(***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        response = yield request
        if response.status_code in (401, 403):
            self.refusal = response.text[:1000]


class PrestaShopClient:
    """One shop's webservice."""

    def __init__(
        self,
        client: httpx.Client,
        ws_key: str,
        settings: PrestaShopSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.api = HttpApi(client, system=SYSTEM, policy=policy, clock=clock)
        self.once = sent_once(self.api)
        self.auth = WebserviceKey(ws_key)
        self.root = f"{settings.base_url.rstrip('/')}/api"
        self.shop_id = settings.shop_id
        self.put_via_post = settings.put_via_post

    def __repr__(self) -> str:
        return f"PrestaShopClient(root={self.root!r})"

    # --- reads --------------------------------------------------------------------------------
    def list(self, resource: str, params: Mapping[str, str]) -> list[Element]:
        """The records of a list (`display` given, so each is a record, not a link)."""
        document = self._send(self.api, "GET", f"/{resource}", params=params)
        listed = document.find(resource)
        return list(listed) if listed is not None else []

    def one(self, resource: str, rid: str | int) -> Element:
        """One record, every field (`GET /api/{resource}/{id}`)."""
        document = self._send(self.api, "GET", f"/{resource}/{rid}")
        children = list(document)
        if not children:
            raise TransientConnectorError(f"prestashop answered {resource}/{rid} with no record")
        return children[0]

    def find(self, resource: str, field: str, values: Iterable[str], *, extra: Mapping[str, str] | None = None):
        """Records whose `field` is any of `values` (compared without case, as PrestaShop does); values
        holding the filter's own syntax characters cannot be asked and are left out."""
        wanted = [value for value in dict.fromkeys(values) if value and not FILTER_SYNTAX & set(value)]
        found: list[Element] = []
        for part in chunks(wanted, 40):
            params = {f"filter[{field}]": "[" + "|".join(part) + "]", "display": "full", **(extra or {})}
            found.extend(self.list(resource, params))
        return found

    # --- writes -------------------------------------------------------------------------------
    def create(self, resource: str, record: Element) -> Element:
        """POST a new record, sent once: a lost answer is the caller's to look up."""
        return self._record(self._send(self.once, "POST", f"/{resource}", body=document_of(record)))

    def update(self, resource: str, rid: str | int, record: Element) -> Element:
        """PUT the whole record; where the host refuses PUT (405), as POST with `ps_method=PUT`."""
        path, body = f"/{resource}/{rid}", document_of(record)
        if not self.put_via_post:
            try:
                return self._record(self._send(self.api, "PUT", path, body=body))
            except PermanentConnectorError as exc:
                if exc.context.get("status_code") != 405:
                    raise
                self.put_via_post = True  # the host's firewall; the request never reached the shop
        try:
            return self._record(self._send(self.api, "POST", path, body=body, params={"ps_method": "PUT"}))
        except PermanentConnectorError as exc:
            if exc.context.get("status_code") == 405:
                raise ConfigurationError(PUT_REFUSED_HELP, field="base_url") from exc
            raise

    @staticmethod
    def _record(document: Element) -> Element:
        children = list(document)
        return children[0] if children else Element("empty")

    def _send(
        self,
        api: HttpApi,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Element:
        query = dict(params or {})
        if self.shop_id != 1:
            query["id_shop"] = str(self.shop_id)
        headers = {"Accept": "text/xml"}
        if body is not None:
            headers["Content-Type"] = "text/xml; charset=utf-8"
        try:
            response = api.request(
                method, f"{self.root}{path}", params=query, content=body, headers=headers, auth=self.auth
            )
        except AuthenticationFailed as exc:
            raise set_up_error(self.auth.refusal) from exc
        except HttpStatusError as exc:
            raise refusal(exc, method, path) from exc
        return parse_xml(response.content)


def document_of(record: Element) -> bytes:
    """`<prestashop><record/></prestashop>`, built by ElementTree (text escaped, never concatenated)."""
    root = Element("prestashop")
    root.append(record)
    return tostring(root, encoding="utf-8", xml_declaration=True)


def parse_xml(body: bytes) -> Element:
    """An answer's XML, refused when it declares a DTD or entities (never expanded, never fetched)."""
    try:
        return fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise PermanentConnectorError(
            "prestashop answered XML with a DTD or entity declarations; koppel does not read it (a proxy or a "
            "module in front of the webservice may have rewritten the answer)"
        ) from exc
    except ParseError as exc:
        raise TransientConnectorError(f"prestashop answered with a body that is not XML: {exc}") from exc


def error_words(body: str) -> str:
    """PrestaShop's `<errors>` as one line: `[code] message; [code] message`."""
    try:
        document = fromstring(body.encode(), forbid_dtd=True) if body else None
    except (ParseError, DefusedXmlException):
        return body.strip()[:200]
    if document is None:
        return ""
    said = []
    for error in document.iter("error"):
        code, message = (error.findtext("code") or "").strip(), (error.findtext("message") or "").strip()
        said.append(f"[{code}] {message}" if code else message)
    return "; ".join(said)


def set_up_error(body: str) -> ConfigurationError:
    said = error_words(body)
    return ConfigurationError(UNAUTHORIZED_HELP + (f" (PrestaShop said: {said})" if said else ""), field="ws_key")


def refusal(exc: HttpStatusError, method: str, path: str) -> Exception:
    said = error_words(exc.body) or f"status {exc.status_code}"
    if exc.status_code == 404:
        return NotFound(f"prestashop has no such record: {said}", status_code=404, path=path)
    if exc.status_code == 405:
        return PermanentConnectorError(f"prestashop's host refused {method} {path} (405)", status_code=405)
    return PermanentConnectorError(f"prestashop refused {method} {path}: {said}", status_code=exc.status_code)


def field_text(record: Element, field: str, language: int | None = None) -> str:
    """A field's text; of a multilingual field, the given language's (else the first)."""
    node = record.find(field)
    if node is None:
        return ""
    languages = node.findall("language")
    if languages:
        chosen = next((entry for entry in languages if entry.get("id") == str(language)), languages[0])
        return (chosen.text or "").strip()
    return (node.text or "").strip()


def set_field(record: Element, field: str, value: str, language: int | None = None) -> None:
    """Set a field; a multilingual one in `language` only, the shop's other languages kept."""
    node = record.find(field)
    if node is None:
        node = SubElement(record, field)
    languages = node.findall("language")
    if languages or (language is not None and field in MULTILINGUAL):
        target = next((entry for entry in languages if entry.get("id") == str(language)), None)
        if target is None:
            target = SubElement(node, "language", id=str(language))
        target.text = value
        return
    node.text = value


MULTILINGUAL = frozenset({"name", "link_rewrite", "description", "description_short", "meta_title"})


class PrestaShopPart:
    """What each capability of `PrestaShopConnector` works through; the connector sets both."""

    shop: PrestaShopClient
    settings: PrestaShopSettings
