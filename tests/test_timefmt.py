"""One RFC 3339 reader and writer for Bifrost, LiteLLM and the embedded gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from heimdall.timefmt import format_rfc3339, parse_rfc3339

MOMENT = datetime(2026, 10, 14, 9, 31, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-14T09:31:07Z", MOMENT),
        ("2026-10-14T09:31:07z", MOMENT),
        ("2026-10-14t09:31:07Z", MOMENT),
        ("2026-10-14 09:31:07Z", MOMENT),
        ("2026-10-14T09:31:07+00:00", MOMENT),
        ("2026-10-14T09:31:07-00:00", MOMENT),
        ("2026-10-14T11:31:07+02:00", MOMENT),
        ("2026-10-14T04:01:07-05:30", MOMENT),
        ("2026-10-14T11:31:07+0200", MOMENT),
        ("2026-10-14T09:31:07", MOMENT),  # naive: UTC
        ("  2026-10-14T09:31:07Z\n", MOMENT),
    ],
)
def test_parses_zones_and_separators(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("fraction", "micro"),
    [
        ("1", 100000),
        ("12", 120000),
        ("123", 123000),
        ("1234", 123400),
        ("12345", 123450),
        ("123456", 123456),
        ("1234567", 123456),  # truncated to the microsecond, never rounded up into the next second
        ("12345678", 123456),
        ("204518123", 204518),  # Go's RFC3339Nano, as Bifrost writes it
        ("999999999", 999999),
    ],
)
def test_fractional_seconds_of_one_to_nine_digits(fraction: str, micro: int) -> None:
    parsed = parse_rfc3339(f"2026-10-14T09:31:07.{fraction}Z")
    assert (parsed.second, parsed.microsecond) == (7, micro)


def test_litellm_isoformat_with_and_without_offset() -> None:
    now = datetime.now(UTC)
    assert parse_rfc3339(now.isoformat()) == now
    assert parse_rfc3339(now.replace(tzinfo=None).isoformat()) == now
    local = now.astimezone(timezone(timedelta(hours=-7)))
    assert parse_rfc3339(local.isoformat()) == now


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "not a time",
        "2026-10-14",  # date only
        "09:31:07Z",
        "2026-W42-3T09:31:07Z",
        "2026-287T09:31:07Z",
        "20261014T093107Z",
        "2026-10-14T09:31Z",
        "2026-10-14T09:31:07.Z",
        "2026-10-14T09:31:07.1234567890Z",  # ten digits
        "2026-10-14T09:31:07ZZ",
        "2026-10-14T09:31:07+00",
        "2026-10-14T09:31:07+24:00",
        "2026-10-14T09:31:07+05:60",
        "2026-10-14T09:31:07 +00:00",
        "2026-13-14T09:31:07Z",
        "2026-02-30T09:31:07Z",
        "2026-10-14T24:00:00Z",
        "2026-10-14T09:60:07Z",
        "2026-12-31T23:59:60Z",  # leap second: datetime has none
        "٢٠٢٦-١٠-١٤T09:31:07Z",  # Arabic-Indic digits: \\d would match them without re.ASCII
        "2026-10-14T09:31:07Z\x00",
        "2026-10-14T09:31:07Z; DROP TABLE logs",
        "x" * 100_000,
    ],
)
def test_hostile_or_malformed_text_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(text)


@pytest.mark.parametrize("value", [None, 1_760_000_000, 1.5, b"2026-10-14T09:31:07Z", ["2026"]])
def test_non_strings_are_a_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(value)  # type: ignore[arg-type]


def test_format_is_utc_microseconds_and_z() -> None:
    moment = MOMENT.replace(microsecond=204518)
    assert format_rfc3339(moment) == "2026-10-14T09:31:07.204518Z"
    assert format_rfc3339(moment.astimezone(timezone(timedelta(hours=2)))) == "2026-10-14T09:31:07.204518Z"
    assert format_rfc3339(moment.replace(tzinfo=None)) == "2026-10-14T09:31:07.204518Z"  # naive: UTC
    assert format_rfc3339(MOMENT.timestamp()) == "2026-10-14T09:31:07.000000Z"  # epoch seconds


def test_round_trip() -> None:
    moment = datetime.now(UTC)
    assert parse_rfc3339(format_rfc3339(moment)) == moment
    assert parse_rfc3339(format_rfc3339(moment.timestamp())) == moment
