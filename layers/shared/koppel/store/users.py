"""The console's users: the stack's Cognito user pool, where the merchant decides who may log in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from koppel.errors import ConfigurationError, NotFound


@dataclass(frozen=True)
class ConsoleUser:
    email: str
    status: str  # FORCE_CHANGE_PASSWORD until the first login, then CONFIRMED
    enabled: bool
    created_at: str


class CognitoUsers:
    """Users are made by an administrator only (the pool allows no sign-up); the e-mail is the login."""

    def __init__(self, client: Any, user_pool_id: str) -> None:
        self.client = client
        self.user_pool_id = user_pool_id

    def add(self, email: str, password: str | None = None) -> ConsoleUser:
        """Without a password Cognito e-mails a temporary one, which the first login replaces; with one
        (read from stdin by the CLI, or the local demo's), it is the user's password from the start."""
        attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
        kwargs: dict[str, Any] = {"DesiredDeliveryMediums": ["EMAIL"]}
        if password is not None:
            kwargs = {"MessageAction": "SUPPRESS"}
        try:
            self.client.admin_create_user(
                UserPoolId=self.user_pool_id, Username=email, UserAttributes=attributes, **kwargs
            )
            if password is not None:
                self.client.admin_set_user_password(
                    UserPoolId=self.user_pool_id, Username=email, Password=password, Permanent=True
                )
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "UsernameExistsException":
                raise ConfigurationError(f"{email} is a console user already") from exc
            if code in ("InvalidPasswordException", "InvalidParameterException"):
                raise ConfigurationError(exc.response["Error"].get("Message", code)) from exc
            raise
        return self.get(email)

    def get(self, email: str) -> ConsoleUser:
        try:
            user = self.client.admin_get_user(UserPoolId=self.user_pool_id, Username=email)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "UserNotFoundException":
                raise NotFound(f"no console user {email}") from exc
            raise
        return _user(user, user.get("UserAttributes", []))

    def all(self) -> list[ConsoleUser]:
        users = []
        for page in self.client.get_paginator("list_users").paginate(UserPoolId=self.user_pool_id):
            users.extend(_user(user, user.get("Attributes", [])) for user in page["Users"])
        return sorted(users, key=lambda user: user.email)

    def remove(self, email: str) -> None:
        self.get(email)  # an unknown user is an error, not a removal
        self.client.admin_delete_user(UserPoolId=self.user_pool_id, Username=email)


def _user(user: dict[str, Any], attributes: list[dict[str, str]]) -> ConsoleUser:
    found = {attribute["Name"]: attribute["Value"] for attribute in attributes}
    created = user.get("UserCreateDate")
    return ConsoleUser(
        email=found.get("email", user.get("Username", "")),
        status=str(user.get("UserStatus", "")),
        enabled=bool(user.get("Enabled", True)),
        created_at=created.isoformat(timespec="seconds") if created is not None else "",
    )
