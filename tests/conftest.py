"""Suite-wide fixtures.

Isolation first: every test runs with Heimdall's data dir and config file in a temporary folder
and without the developer's provider credentials or Claude/Heimdall overrides in the environment,
so no test can read or change the real user's files or reach a real provider by accident.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.anthropic import SimulatedUpstream

# Prefixes and names scrubbed from os.environ for the whole run. HEIMDALL_TEST_* (paths of the
# pinned test dependencies) survive.
_SCRUB_PREFIXES = ("ANTHROPIC_", "OPENAI_", "CLAUDE_CODE_", "HEIMDALL_", "LITELLM_", "BIFROST_")
_SCRUB_NAMES = ("CLAUDE_CONFIG_DIR", "GEMINI_API_KEY", "GOOGLE_API_KEY", "AWS_BEARER_TOKEN_BEDROCK")
_KEEP_PREFIXES = ("HEIMDALL_TEST_",)


def _scrubbed(name: str) -> bool:
    if name.startswith(_KEEP_PREFIXES):
        return False
    return name.startswith(_SCRUB_PREFIXES) or name in _SCRUB_NAMES


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Temp HEIMDALL_DATA_DIR / HEIMDALL_CONFIG, provider keys removed; restored afterwards."""
    root = tmp_path_factory.mktemp("heimdall-home")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if _scrubbed(name):
                mp.delenv(name)
        mp.setenv("HEIMDALL_DATA_DIR", str(root / "data"))
        mp.setenv("HEIMDALL_CONFIG", str(root / "config" / "config.toml"))
        yield root


@pytest.fixture
def fake_upstream(tmp_path: Path) -> Iterator[SimulatedUpstream]:
    """A started simulated Anthropic upstream on 127.0.0.1, logging to `tmp_path/upstream.jsonl`."""
    upstream = SimulatedUpstream(log_path=tmp_path / "upstream.jsonl")
    upstream.start()
    try:
        yield upstream
    finally:
        upstream.stop()
