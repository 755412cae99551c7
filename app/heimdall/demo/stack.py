"""The demo stack: a simulated model behind the real embedded gateway, in one throwaway folder.

`heimdall demo` runs real Claude Code tabs, the real embedded gateway, the sidebar and the model
menu on this stack, against the built-in simulated Anthropic upstream on 127.0.0.1 (deterministic
replies and token counts, priced at the real models' list prices). Everything lives in a throwaway
folder (Claude Code's config, the gateway's database, the sessions) that is deleted on exit:
nothing touches the user's `~/.claude`, sessions or spend, and nothing leaves the machine. The UI
says "demo" in the title, the sidebar, the model menu and next to every cost figure.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from heimdall.claude.launch import CLAUDE_OFFLINE_ENV
from heimdall.claude.settings import claude_dot_json, seed_gateway_models
from heimdall.config import Config
from heimdall.demo.simulated import SIMULATED_MODELS, SimulatedUpstream, SimulatedUsage
from heimdall.gateways.embedded import EmbeddedClient
from heimdall.gateways.protocol import PROVIDER_KEY_VARS
from heimdall.server.app import GatewaySettings, RunningGateway
from heimdall.sessions.store import Session

DEMO_TABS: tuple[tuple[str, str | None, float | None], ...] = (
    ("api-fix", "claude-sonnet-4-5-20250929", 0.05),
    ("docs", "claude-haiku-4-5-20251001", None),
    ("refactor", "claude-sonnet-4-5-20250929", None),
)
"""Name, model and budget of the tabs the demo opens (in this order)."""
DEMO_REPLY = "this is Heimdall's demo: a simulated model, no real spend."


def demo_environment(root: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The children's environment: the user's, minus provider keys, with a throwaway Claude home.

    Claude Code's onboarding, trust and key dialogs are pre-answered in the throwaway config
    (claude-code.md §2.3), and every switch that would reach the internet is off (§2.1).
    """
    source = dict(os.environ if environ is None else environ)
    home = root / "home"
    config_dir = root / "claude-config"
    tmp_dir = root / "tmp"
    for folder in (home, config_dir, tmp_dir):
        folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in source.items() if k not in PROVIDER_KEY_VARS}
    env.pop("CLAUDE_CONFIG_DIR", None)
    env.update(
        {
            "HOME": str(home),
            "CLAUDE_CONFIG_DIR": str(config_dir),
            "CLAUDE_CODE_TMPDIR": str(tmp_dir),
            "ANTHROPIC_AUTH_TOKEN": "heimdall-demo",  # the simulated upstream accepts anything
            **CLAUDE_OFFLINE_ENV,
        }
    )
    env.setdefault("LANG", "C.UTF-8")
    dot_json = claude_dot_json()
    (config_dir / ".claude.json").write_text(json.dumps(dot_json, indent=2), encoding="utf-8")
    return env


@dataclass
class DemoStack:
    """The simulated upstream + embedded gateway + client, in one throwaway folder."""

    root: Path
    upstream: SimulatedUpstream
    gateway: RunningGateway
    client: EmbeddedClient
    env: dict[str, str]
    """The children's environment (`demo_environment`)."""
    project: Path
    keep: bool = False
    stopped: bool = field(default=False)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.gateway.stop()
        self.upstream.stop()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def start_demo_stack(config: Config, *, root: Path | None = None,
                     environ: Mapping[str, str] | None = None) -> DemoStack:
    """Start the simulated upstream and an in-process embedded gateway on free loopback ports."""
    keep = root is not None
    root = root or Path(tempfile.mkdtemp(prefix="heimdall-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    upstream = SimulatedUpstream(
        usage=SimulatedUsage(input_tokens=1200, output_tokens=345, cache_read_input_tokens=2048),
        reply_suffix=DEMO_REPLY,
    )
    upstream_url = upstream.start()
    token = secrets.token_urlsafe(24)
    try:
        gateway = RunningGateway(
            GatewaySettings(
                token=token,
                db_path=root / "gateway.db",
                host="127.0.0.1",
                port=0,
                upstream=upstream_url,
                price_overrides=config.pricing.overrides,
            )
        ).start()
    except Exception:
        upstream.stop()
        raise
    client = EmbeddedClient(gateway.url, token, timeout=config.gateway.timeout_seconds)
    env = demo_environment(root, environ)
    project = root / "project"
    project.mkdir(exist_ok=True)
    (project / "README.md").write_text("# demo project\n\nHeimdall's demo tabs start here.\n")
    # on failure only Claude Code's own /model picker misses the list
    with contextlib.suppress(ValueError, OSError):
        seed_gateway_models(
            Path(env["CLAUDE_CONFIG_DIR"]),
            f"{gateway.url}/anthropic",
            [(model_id, name) for model_id, name, _ in SIMULATED_MODELS],
            environ={},
        )
    return DemoStack(root, upstream, gateway, client, env, project, keep=keep)


def demo_sessions(count: int, project: Path) -> list[Session]:
    """The demo's tabs (1-9 of them), named and budgeted after `DEMO_TABS`."""
    out = []
    for index in range(max(1, min(count, 9))):
        name, model, budget = DEMO_TABS[index % len(DEMO_TABS)]
        if index >= len(DEMO_TABS):
            name = f"{name}-{index + 1}"
        out.append(Session.new(name, project, model=model, budget_usd=budget, project_dir=project))
    return out
