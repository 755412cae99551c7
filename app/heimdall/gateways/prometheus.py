"""A small, strict parser for the Prometheus text exposition format (version 0.0.4).

LiteLLM without a database exposes per-session spend only as Prometheus counters at `/metrics/`.
Label values are untrusted text (session ids, user agents) with escapes (`\\\\`, `\\"`, `\\n`), so
this parses them character by character instead of splitting on commas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


class ExpositionError(ValueError):
    """The text is not valid exposition format; the message names the line."""


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float
    timestamp_ms: int | None = None


@dataclass(slots=True)
class Exposition:
    samples: list[Sample] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    help: dict[str, str] = field(default_factory=dict)

    def named(self, name: str) -> list[Sample]:
        return [s for s in self.samples if s.name == name]


def _unescape_help(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\\\", "\\")


def _is_name_char(ch: str, first: bool) -> bool:
    return ch.isascii() and (ch.isalpha() or ch in "_:" or (not first and ch.isdigit()))


def _parse_value(text: str, lineno: int) -> float:
    lowered = text.lower()
    if lowered in ("+inf", "inf"):
        return math.inf
    if lowered == "-inf":
        return -math.inf
    if lowered == "nan":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ExpositionError(f"line {lineno}: bad sample value {text!r}") from None


def _parse_labels(line: str, pos: int, lineno: int) -> tuple[dict[str, str], int]:
    """Parse `{a="x",b="y"}` starting at `line[pos] == "{"`; returns (labels, index after `}`)."""
    labels: dict[str, str] = {}
    pos += 1
    n = len(line)
    while True:
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos < n and line[pos] == "}":
            return labels, pos + 1
        start = pos
        while pos < n and _is_name_char(line[pos], pos == start):
            pos += 1
        name = line[start:pos]
        if not name:
            raise ExpositionError(f"line {lineno}: expected a label name at column {pos + 1}")
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos >= n or line[pos] != "=":
            raise ExpositionError(f"line {lineno}: expected '=' after label {name}")
        pos += 1
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos >= n or line[pos] != '"':
            raise ExpositionError(f"line {lineno}: label {name} value must be quoted")
        pos += 1
        chars: list[str] = []
        while True:
            if pos >= n:
                raise ExpositionError(f"line {lineno}: unterminated value for label {name}")
            ch = line[pos]
            if ch == "\\":
                if pos + 1 >= n:
                    raise ExpositionError(f"line {lineno}: dangling escape in label {name}")
                nxt = line[pos + 1]
                chars.append({"n": "\n", "\\": "\\", '"': '"'}.get(nxt, "\\" + nxt))
                pos += 2
                continue
            if ch == '"':
                pos += 1
                break
            chars.append(ch)
            pos += 1
        labels[name] = "".join(chars)
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos < n and line[pos] == ",":
            pos += 1
            continue
        if pos < n and line[pos] == "}":
            return labels, pos + 1
        raise ExpositionError(f"line {lineno}: expected ',' or '}}' after label {name}")


def parse_exposition(text: str) -> Exposition:
    """Parse a whole exposition; raises `ExpositionError` on the first malformed line."""
    out = Exposition()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line[1:].strip().split(None, 2)
            if len(parts) >= 2 and parts[0] == "HELP":
                out.help[parts[1]] = _unescape_help(parts[2] if len(parts) > 2 else "")
            elif len(parts) >= 3 and parts[0] == "TYPE":
                out.types[parts[1]] = parts[2].strip()
            continue
        pos = 0
        while pos < len(line) and _is_name_char(line[pos], pos == 0):
            pos += 1
        name = line[:pos]
        if not name:
            raise ExpositionError(f"line {lineno}: expected a metric name")
        labels: dict[str, str] = {}
        if pos < len(line) and line[pos] == "{":
            labels, pos = _parse_labels(line, pos, lineno)
        rest = line[pos:].split()
        if not rest or len(rest) > 2:
            raise ExpositionError(f"line {lineno}: expected 'value [timestamp]' after {name}")
        value = _parse_value(rest[0], lineno)
        stamp = None
        if len(rest) == 2:
            try:
                stamp = int(rest[1])
            except ValueError:
                raise ExpositionError(f"line {lineno}: bad timestamp {rest[1]!r}") from None
        out.samples.append(Sample(name, labels, value, stamp))
    return out
