"""Gateway clients behind one protocol (`base.GatewayClient`), and the factory that picks one.

`make_client(config)` decides from `config.gateway`: `kind = "bifrost" | "litellm" | "embedded"`
as given; `"auto"` with a URL asks the server what it is (one short probe); `"auto"` without a URL
means the embedded gateway. Credentials come from `heimdall.credentials` (keyring or env), never config.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import httpx

from heimdall.gateways.protocol import GatewayClient, GatewayError, GatewayUnreachable
from heimdall.gateways.transport import check_base_url

if TYPE_CHECKING:
    from heimdall.config import Config, GatewayKind
    from heimdall.server.launcher import EmbeddedGatewayHandle

DetectedKind = Literal["embedded", "bifrost", "litellm"]

__all__ = ["GatewayClient", "detect_kind", "embedded_url", "make_client", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`"30m"`, `"1h"`, `"24h"`, `"7d"` (also `s`, `w`) -> timedelta; ValueError otherwise."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"bad duration {text!r}: use a number and a unit, e.g. 30m, 1h, 24h, 7d")
    amount = float(match.group(1))
    if amount <= 0:
        raise ValueError(f"bad duration {text!r}: must be greater than zero")
    return timedelta(**{_UNITS[match.group(2).lower()]: amount})


def detect_kind(
    url: str, timeout: float = 3.0, transport: httpx.BaseTransport | None = None
) -> DetectedKind:
    """Ask the server what it is: `embedded`, `bifrost` or `litellm`. Raises `GatewayError`."""
    base = check_base_url(url)
    try:
        with httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
        ) as http:
            health = _json_or_none(http.get(base + "/health"))
            if isinstance(health, dict) and health.get("service") == "heimdall-gateway":
                return "embedded"
            auth = _json_or_none(http.get(base + "/api/session/is-auth-enabled"))
            if isinstance(auth, dict) and "is_auth_enabled" in auth:
                return "bifrost"
            if http.get(base + "/health/liveliness").status_code == 200:
                return "litellm"
    except httpx.TimeoutException:
        raise GatewayUnreachable(f"gateway at {base} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise GatewayUnreachable(
            f"cannot reach the gateway at {base} to tell its kind ({type(exc).__name__}); "
            "start it or pass --gateway-kind bifrost|litellm|embedded"
        ) from None
    raise GatewayError(
        f"{base} does not look like Bifrost, LiteLLM or a Heimdall gateway; "
        "pass --gateway-kind bifrost|litellm|embedded"
    )


def _json_or_none(response: httpx.Response) -> Any:
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def embedded_url(config: Config) -> str:
    host = config.embedded.host
    if host in ("0.0.0.0", "", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{config.embedded.port}"


def make_client(config: Config, *, embedded: EmbeddedGatewayHandle | None = None) -> GatewayClient:
    """The client for the configured gateway. Raises `GatewayError` (bad URL, undetectable kind).

    `embedded` is the handle of the embedded gateway when the caller started or found it
    (`gateways.embedded.ensure_embedded_gateway`); without it the embedded client points at the
    configured host/port with the token from the data dir (it does not start anything).
    May block for one short probe when the kind is `auto` with a URL: call it off the event loop.
    """
    from heimdall import credentials as secrets
    from heimdall.gateways.bifrost import BifrostClient
    from heimdall.gateways.embedded import EmbeddedClient
    from heimdall.gateways.litellm import LiteLLMClient

    gw = config.gateway
    kind: GatewayKind = gw.kind
    url = gw.url
    if kind == "auto":
        kind = detect_kind(url, timeout=gw.timeout_seconds) if url else "embedded"
    if kind == "embedded":
        if embedded is not None:
            return EmbeddedClient(
                embedded.url,
                embedded.token,
                held_key=embedded.held_key,
                timeout=gw.timeout_seconds,
                pass_provider_keys=gw.pass_provider_keys,
            )
        return EmbeddedClient(
            url or embedded_url(config),
            _embedded_token(),
            timeout=gw.timeout_seconds,
            pass_provider_keys=gw.pass_provider_keys,
        )
    if not url:
        raise GatewayError(f"gateway kind {kind} needs a URL (--gateway URL or gateway.url)")
    if kind == "litellm":
        return LiteLLMClient(
            url,
            key=secrets.get_secret(secrets.SecretName.LITELLM_KEY),
            user_header=gw.litellm_user_header,
            timeout=gw.timeout_seconds,
            pass_provider_keys=gw.pass_provider_keys,
        )
    return BifrostClient(
        url,
        timeout=gw.timeout_seconds,
        virtual_key=secrets.get_secret(secrets.SecretName.VIRTUAL_KEY),
        admin=secrets.admin_credential(),
        pass_provider_keys=gw.pass_provider_keys,
        per_session_virtual_keys=gw.per_session_virtual_keys,
        keep_virtual_keys=gw.keep_virtual_keys,
    )


def _embedded_token() -> str:
    from heimdall.server.auth import TokenError, load_or_create_token  # the embedded gateway always ships

    try:
        return load_or_create_token()
    except TokenError as exc:  # say it as a gateway problem
        raise GatewayError(f"embedded gateway token: {exc}") from None
