"""Account credentials from Secrets Manager, through Powertools parameters (cached per container).

An account names its secret (`secret_ref`); the secret is a JSON object whose keys depend on the
system: `webhook_secret` (and optionally `previous_webhook_secret` during a rotation) for inbound
webhooks, `access_token` for Shopify, `client_id`/`client_secret` for bol.com, and so on.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from botocore.exceptions import ClientError

from koppel.config import Account
from koppel.errors import ConfigurationError, ServiceUnavailable

PERMANENT_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "InvalidRequestException",
        "InvalidParameterException",
        "DecryptionFailure",
    }
)


class CredentialReader(Protocol):
    def credentials(self, account: Account) -> dict[str, Any]: ...


class CredentialWriter(Protocol):
    def update(self, account: Account, changes: dict[str, str], removed: tuple[str, ...] = ()) -> None:
        """Set `changes` and drop `removed` in the account's secret, keeping every other key."""
        ...


class Credentials(CredentialReader, CredentialWriter, Protocol):
    """Both: what the webhook receiver needs (verify with the secret; store what a hook hands over)."""


class SecretsManagerCredentials:
    def __init__(self, client: Any, max_age_seconds: int = 300) -> None:
        self.client = client
        self.provider = SecretsProvider(boto3_client=client)
        self.max_age = max_age_seconds

    def update(self, account: Account, changes: dict[str, str], removed: tuple[str, ...] = ()) -> None:
        """Read the secret as it is now (not the cached copy), merge, write it back as a new version. Two
        hooks at once are rare (a system hands over its credentials once); the later write wins whole."""
        try:
            current = json.loads(self.client.get_secret_value(SecretId=account.secret_ref)["SecretString"])
            if not isinstance(current, dict):
                raise ConfigurationError("the account's secret is not a JSON object", field="secret_ref")
            merged = {key: value for key, value in current.items() if key not in removed} | changes
            self.client.put_secret_value(SecretId=account.secret_ref, SecretString=json.dumps(merged))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in PERMANENT_CODES:
                reason = f"the account's secret cannot be written ({code})"
                raise ConfigurationError(reason, field="secret_ref") from exc
            raise ServiceUnavailable("Secrets Manager did not answer; try again") from exc
        except (KeyError, json.JSONDecodeError) as exc:
            raise ConfigurationError("the account's secret is not a JSON object", field="secret_ref") from exc
        self.provider.clear_cache()

    def credentials(self, account: Account) -> dict[str, Any]:
        try:
            value = self.provider.get(account.secret_ref, transform="json", max_age=self.max_age)
        except TransformParameterError as exc:
            raise ConfigurationError("the account's secret is not a JSON object", field="secret_ref") from exc
        except GetParameterError as exc:
            # Powertools wraps the AWS error; only a missing or forbidden secret is a configuration
            # problem. Throttling and timeouts pass: the caller should try again.
            cause = exc.__context__
            code = cause.response.get("Error", {}).get("Code", "") if isinstance(cause, ClientError) else ""
            if code in PERMANENT_CODES:
                raise ConfigurationError(f"the account's secret cannot be read ({code})", field="secret_ref") from exc
            raise ServiceUnavailable("Secrets Manager did not answer; try again") from exc
        if not isinstance(value, dict):
            raise ConfigurationError("the account's secret is not a JSON object", field="secret_ref")
        return value
