"""Typed refusals a gateway can give, on top of the `GatewayError` family in `base`.

Each one is a `GatewayError`, so callers that only care about "it failed, say why" need nothing
more; the UI can match on the subclass to colour a budget refusal differently from an outage.
"""

from __future__ import annotations

from heimdall.gateways.protocol import GatewayAuthError, GatewayError, GatewayHTTPError


class InsecureGatewayURL(GatewayError):
    """Plain http:// to a host that is not loopback: credentials would cross the network in clear."""


class RedirectRefused(GatewayError):
    """The gateway redirected to another host; following would leak our credentials there."""


class KeyBlocked(GatewayAuthError):
    """The virtual key exists but is inactive or expired (Bifrost `access_blocked`)."""

    def __init__(self, message: str, status_code: int = 403) -> None:
        super().__init__(message)
        self.status_code = status_code


class KeyNotFound(GatewayAuthError):
    """The gateway does not know this virtual key (Bifrost `access_not_found`)."""

    def __init__(self, message: str, status_code: int = 401) -> None:
        super().__init__(message)
        self.status_code = status_code


class CredentialMissing(GatewayAuthError):
    """A call needs a credential Heimdall does not have (see `heimdall auth status`)."""


class RateLimited(GatewayHTTPError):
    """A rate-limit window is exhausted (HTTP 429)."""


class ModelBlocked(GatewayHTTPError):
    """The model or provider is not allowed for this key."""
