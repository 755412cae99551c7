"""The gateway status line: which gateway, whether it answers, and how old the numbers are.

Money without a timestamp is a guess: the line always says "as of HH:MM:SS" for the newest data,
and when the gateway stops answering it says since when, while the sidebar keeps the last numbers.
The URL and messages come from config and servers, so they are drawn as `Text` (never markup).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual.widgets import Static

from heimdall.gateways.protocol import Health, HealthStatus
from heimdall.spend.poller import GatewayState

STATE_CLASSES = ("-ok", "-down", "-auth-failed", "-error", "-unknown")


def clock_time(moment: datetime | None, tz: tzinfo | None = None) -> str:
    """HH:MM:SS in local time (or `tz`), `--:--:--` for unknown."""
    if moment is None:
        return "--:--:--"
    local = moment.astimezone(tz) if tz else moment.astimezone()
    return local.strftime("%H:%M:%S")


def status_class(status: HealthStatus | None) -> str:
    return {
        HealthStatus.OK: "-ok",
        HealthStatus.UNREACHABLE: "-down",
        HealthStatus.AUTH_FAILED: "-auth-failed",
        HealthStatus.ERROR: "-error",
    }.get(status, "-unknown")  # type: ignore[arg-type]


def status_text(state: GatewayState, tz: tzinfo | None = None, *, compact: bool = False) -> Text:
    """Short lines: kind + state, (since when), URL (not when compact: it is in the tooltip), age."""
    kind = state.kind or "gateway"
    text = Text()
    text.append("● ", style="bold")
    text.append(kind, style="bold")
    if state.status is None:
        text.append(" · connecting…")
    elif state.status is HealthStatus.OK:
        text.append(" · healthy")
    elif state.status is HealthStatus.AUTH_FAILED:
        text.append(" · auth failed")
    elif state.status is HealthStatus.UNREACHABLE:
        text.append(f"\nunreachable since {clock_time(state.since, tz)}")
    else:
        text.append(f"\nerror since {clock_time(state.since, tz)}")
    if state.url and not compact:
        text.append("\n")
        text.append(state.url)
    text.append("\n")
    text.append(f"as of {clock_time(state.as_of, tz)}" if state.as_of else "no data yet")
    if state.failures > 1:
        text.append(f" · {state.failures} fails")
    if state.note:
        text.append("\npartial view (hover)", style="italic")
    return text


class GatewayStatus(Static):
    """One gateway's status; state class `-ok`, `-down`, `-auth-failed`, `-error` or `-unknown`."""

    DEFAULT_CSS = """
    GatewayStatus { height: auto; }
    """

    def __init__(self, *, tz: tzinfo | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.tz = tz
        self.compact = False
        self.state: GatewayState | None = None

    def update_state(self, state: GatewayState | Health) -> None:
        if isinstance(state, Health):
            state = GatewayState.from_health(state)
        self.state = state
        self.update(status_text(state, self.tz, compact=self.compact))
        for name in STATE_CLASSES:
            self.remove_class(name)
        self.add_class(status_class(state.status))
        tip = Text(f"{state.kind or 'gateway'} {state.url}\n")
        tip.append(state.message or str(state.status or "not checked yet"))
        if state.version:
            tip.append(f"\nversion {state.version}")
        if state.latency_ms is not None:
            tip.append(f"\nlatency {state.latency_ms:.0f} ms")
        if state.note:
            tip.append(f"\n{state.note}")
        self.tooltip = tip
