"""Account credentials from Secrets Manager, through Powertools parameters (cached per container).

An account names its secret (`secret_ref`); the secret is a JSON object whose keys depend on the
system: `webhook_secret` (and optionally `previous_webhook_secret` during a rotation) for inbound
webhooks, `access_token` for Shopify, `client_id`/`client_secret` for bol.com, and so on.
"""

from __future__ import annotations

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


class SecretsManagerCredentials:
    def __init__(self, client: Any, max_age_seconds: int = 300) -> None:
        self.provider = SecretsProvider(boto3_client=client)
        self.max_age = max_age_seconds

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
