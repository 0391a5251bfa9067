"""InnVoice's API over HTTP: XML both ways, HTTP Basic, paths under the company's registration name.

Built from the public facts koppel keeps on InnVoice (`FACTS-systems-2.md` §1.3, §2.1: a third-party
client and two apps), not from a specification, which InnVoice does not publish. Unverified:
- the HTTP statuses: only the error body is known (`<response><error>code</error><message>…`), so it
  is read at any status, a 2xx included. 401 is taken as the credentials refused;
- rate limits: none documented. A 429 means nothing was done: it is waited out (`Retry-After` when
  given) and asked again;
- the values: the known client wraps each in CDATA; ElementTree writes no CDATA, and escaped text
  is the same XML (`<a><![CDATA[x & y]]></a>` and `<a>x &amp; y</a>` carry one value).
Every answer is parsed with defusedxml (no DTD, no entity expansion); bodies are built with
ElementTree, never by joining strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree.ElementTree import Element, ParseError, tostring

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from koppel.connectors.auth import BasicAuth
from koppel.connectors.http import Clock, HttpApi, HttpStatusError, RetryPolicy
from koppel.connectors.innvoice.settings import InnVoiceSettings
from koppel.connectors.wire import sent_once
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    PermanentConnectorError,
    RateLimited,
    TransientConnectorError,
)

SYSTEM = "innvoice"
CREDENTIALS_HELP = (
    "InnVoice refused the API user (401): check `user` and `password` in the account's secret (the API "
    "access set up under InnVoice's API settings, not a login of the web app) and the account's reg_name"
)


class InnVoiceRefusal(PermanentConnectorError):
    """InnVoice answered with its error shape; `code` and the words it gave."""

    def __init__(self, message: str, *, code: str, words: str, status_code: int) -> None:
        super().__init__(message, code=code, status_code=status_code)
        self.code = code
        self.words = words
        self.status_code = status_code


class InnVoiceClient:
    """One InnVoice company's API, as its API user."""

    def __init__(
        self,
        client: httpx.Client,
        user: str,
        password: str,
        settings: InnVoiceSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.api = HttpApi(client, system=SYSTEM, policy=policy, clock=clock)
        # Same clock, one attempt: a document whose answer is lost may have been made.
        self.once = sent_once(self.api)
        self.auth = BasicAuth(user, password)
        self.root = f"{settings.base_url.rstrip('/')}/{settings.reg_name}"

    def __repr__(self) -> str:
        return f"InnVoiceClient(root={self.root!r})"

    def get(self, path: str) -> Element:
        """The XML answer of a read (retried on 5xx and timeouts: a read changes nothing)."""
        try:
            response = self.api.request("GET", f"{self.root}{path}", headers={"Accept": "text/xml"}, auth=self.auth)
        except AuthenticationFailed as exc:
            raise ConfigurationError(CREDENTIALS_HELP, field="user") from exc
        except HttpStatusError as exc:
            raise refusal(exc.status_code, exc.body, f"GET {path}") from exc
        return answer_of(response, f"GET {path}")

    def post(self, path: str, body: Element) -> Element:
        """Send a document once. A lost answer (5xx, a timeout) is a TransientConnectorError saying the
        outcome is unknown; a 429 did nothing and is waited out and sent again."""
        content = tostring(body, encoding="utf-8", xml_declaration=True)
        headers = {"Accept": "text/xml", "Content-Type": "text/xml; charset=utf-8"}
        attempts = self.api.policy.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                response = self.once.request(
                    "POST", f"{self.root}{path}", content=content, headers=headers, auth=self.auth
                )
            except RateLimited as exc:
                if attempt == attempts:
                    raise
                self.api.wait(exc.retry_after or self.api.backoff(attempt), "429")
                continue
            except TransientConnectorError as exc:
                raise TransientConnectorError(
                    f"innvoice did not answer POST {path} ({exc.message}): the outcome is unknown, the document "
                    "may have been made; koppel does not send it again by itself",
                    outcome_unknown=True,
                ) from exc
            except AuthenticationFailed as exc:
                raise ConfigurationError(CREDENTIALS_HELP, field="user") from exc
            except HttpStatusError as exc:
                raise refusal(exc.status_code, exc.body, f"POST {path}") from exc
            return answer_of(response, f"POST {path}")
        raise RateLimited(f"innvoice still rate-limiting POST {path} after {attempts} tries")


def answer_of(response: httpx.Response, what: str) -> Element:
    try:
        document = fromstring(response.content, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise TransientConnectorError(f"innvoice answered {what} with a body that is not XML") from exc
    if document.tag == "response" and document.find("error") is not None:
        raise refused_in_words(document, response.status_code, what)
    return document


def refusal(status: int, body: str, what: str) -> Exception:
    try:
        document = fromstring(body.encode(), forbid_dtd=True) if body else None
    except (ParseError, DefusedXmlException):
        document = None
    if document is not None and document.tag == "response" and document.find("error") is not None:
        return refused_in_words(document, status, what)
    return PermanentConnectorError(f"innvoice refused {what} (status {status})", status_code=status)


def refused_in_words(document: Element, status: int, what: str) -> Exception:
    code, words = value(document, "error"), value(document, "message")
    if status == 401 or code == "401":
        return ConfigurationError(CREDENTIALS_HELP, field="user")
    if status == 404 and "/techid/" not in what and "/proforma_invoice" not in what:
        return ConfigurationError(
            f"InnVoice knows no company at this address ({words or 'not found'}): check the account's reg_name "
            "(the company's registration name in InnVoice) and base_url",
            field="settings.reg_name",
        )
    return InnVoiceRefusal(
        f"innvoice refused {what}: {words or 'no reason given'}" + (f" (error {code})" if code else ""),
        code=code,
        words=words,
        status_code=status,
    )


def value(node: Element | None, tag: str) -> str:
    """The stripped text of `node`'s child `tag`; "" when absent."""
    if node is None:
        return ""
    found = node.find(tag)
    return (found.text or "").strip() if found is not None else ""


def fields(node: Element) -> Mapping[str, str]:
    return {child.tag: (child.text or "").strip() for child in node if len(child) == 0}


class InnVoicePart:
    """What each capability of `InnVoiceConnector` works through; the connector sets both."""

    innvoice: InnVoiceClient
    settings: InnVoiceSettings
