"""Claude Code's config dir and the files Heimdall writes into one it manages.

`claude_config_dir` is the one answer to "where does this child's Claude Code keep its state"
(settings, transcripts, live session files, login): `$CLAUDE_CONFIG_DIR` with `~` expanded,
else `$HOME/.claude`. The other helpers write into throwaway config dirs only (the demo, the
tests): a `.claude.json` that pre-answers the first-run dialogs and a gateway model cache. The
user's own Claude Code settings are never written.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from heimdall.claude.install import CLAUDE_CODE_VERSION

_GATEWAY_MODEL_ID = re.compile(r"^(claude|anthropic)", re.IGNORECASE)


def claude_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$CLAUDE_CONFIG_DIR` (a leading `~` is `$HOME`), else `$HOME/.claude`, for `env`.

    `env` is usually a child's environment, whose `HOME` may differ from ours (the demo gives
    Claude Code a throwaway one), so `~` is expanded against `env`'s `HOME`.
    """
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    override = env.get("CLAUDE_CONFIG_DIR")
    if not override:
        return home / ".claude"
    if override == "~" or override.startswith("~/"):
        return home / override[2:]
    return Path(override).expanduser()  # `~user/...` or an absolute / relative path


def claude_dot_json(
    *, api_key: str | None = None, trusted: Sequence[str] = ("/",)
) -> dict[str, object]:
    """A throwaway `.claude.json` that pre-answers onboarding, trust and key-approval dialogs
    (docs/claude-code.md, Offline switches)."""
    data: dict[str, object] = {
        "hasCompletedOnboarding": True,
        "lastOnboardingVersion": CLAUDE_CODE_VERSION,
        "theme": "dark",
        "projects": {
            folder: {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}
            for folder in trusted
        },
    }
    if api_key:
        data["customApiKeyResponses"] = {"approved": [api_key[-20:]], "rejected": []}
    return data


def seed_gateway_models(
    config_dir: Path,
    base_url: str,
    models: Iterable[tuple[str, str | None]],
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Write Claude Code's gateway model cache so its `/model` picker lists the gateway's models.

    Claude Code only fetches the list itself with nonessential traffic enabled; a pre-seeded
    `cache/gateway-models.json` is used regardless. Only for config dirs Heimdall manages (tests,
    `heimdall demo`): refuses the user's own (`~/.claude` or this process's `CLAUDE_CONFIG_DIR`).
    Keeps only ids Claude Code accepts (`claude*` / `anthropic*`).
    """
    environ = os.environ if environ is None else environ
    target = Path(config_dir).expanduser().resolve()
    users = {(Path.home() / ".claude").resolve(), claude_config_dir(environ).resolve()}
    if target in users:
        raise ValueError(f"refusing to write into the user's Claude Code config dir {target}")
    entries = [
        {"id": model_id, "display_name": name or model_id}
        for model_id, name in models
        if _GATEWAY_MODEL_ID.match(model_id)
    ]
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    payload = {
        "baseUrl": base_url,
        "fetchedAt": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
        "models": entries,
    }
    path = target / "cache" / "gateway-models.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
