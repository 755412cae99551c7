"""RFC 3339 timestamps, the one format every gateway speaks: one writer, one reader.

Written as UTC with microseconds and `Z` (`2026-10-14T09:31:07.204518Z`), which Bifrost's
`start_time` parser, the embedded gateway's and Python's all accept. Read from what Bifrost
(Go's RFC3339Nano: up to 9 fractional digits), LiteLLM (Python's isoformat: 6 digits, `+00:00`,
sometimes no offset at all) and clients send: `T`, `t` or a space between date and time, `Z`,
`z`, `+HH:MM` or `+HHMM`, 1 to 9 fractional digits (kept to the microsecond, truncated), and no
offset meaning UTC. Anything else is a ValueError: no date-only, week or ordinal forms, no
non-ASCII digits, no leap second (Python's datetime has none).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?",
    re.ASCII,
)


def parse_rfc3339(value: str) -> datetime:
    """An RFC 3339 timestamp -> aware datetime in UTC. ValueError when it is not one."""
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value[:64]!r}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    zone = UTC
    if sign is not None and not zulu:
        if int(off_h) > 23 or int(off_m) > 59:
            raise ValueError(f"bad UTC offset in {value[:64]!r}")
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        zone = timezone(-offset if sign == "-" else offset)
    micro = int((fraction or "0").ljust(6, "0")[:6])
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=zone
    )
    return moment.astimezone(UTC)


def format_rfc3339(moment: datetime | float) -> str:
    """UTC with microseconds and `Z`. A float is epoch seconds; a naive datetime is taken as UTC."""
    if isinstance(moment, datetime):
        aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    else:
        aware = datetime.fromtimestamp(moment, UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
