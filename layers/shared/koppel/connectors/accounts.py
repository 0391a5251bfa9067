"""What connectors check of an account: in `from_account`, that the account is of the connector's system
and that the secret holds the fields it needs (one field, or a user and password); in the settings, that a
time zone is one."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

from koppel.config import Account
from koppel.errors import ConfigurationError

S = TypeVar("S")


def settings_of(account: Account, settings: type[S], system: str) -> S:
    """The account's typed settings; a `ConfigurationError` when the account is not `system`'s
    (`system` with its article: "a Magento", "an OpenCart")."""
    typed = account.typed_settings()
    if not isinstance(typed, settings):
        raise ConfigurationError(f"account {account.account_id} is not {system} account", field="system")
    return typed


def secret(credentials: dict[str, Any], name: str, missing: str) -> str:
    """The secret's field `name`, stripped; a `ConfigurationError` in the words `missing` when it is empty."""
    value = str(credentials.get(name) or "").strip()
    if not value:
        raise ConfigurationError(missing, field=name)
    return value


def user_and_password(credentials: dict[str, Any], missing: str) -> tuple[str, str]:
    """The secret's `user` (stripped) and `password` (as it is: a password may hold spaces at its ends);
    a `ConfigurationError` in the words `missing` when either is empty."""
    user = str(credentials.get("user") or "").strip()
    password = str(credentials.get("password") or "")
    if not user or not password:
        raise ConfigurationError(missing, field="user")
    return user, password


def known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a time zone name such as Europe/Amsterdam") from exc
    return value


# A time zone name (`Europe/Amsterdam`), checked when the settings are read.
TimeZoneName = Annotated[str, AfterValidator(known_zone)]
