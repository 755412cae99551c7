"""How a Claude Code tab is launched: its command line and environment.

Built on the generic launch in `heimdall.process.launch` (terminal identity out, Heimdall's
secrets out, our `TERM` in); what is Claude Code's own is here:
- Gateway variables come from `GatewayClient.session_env()`; a `None` value removes a variable.
  Variables saying "you run inside another Claude Code" are removed too.
- Heimdall picks each session's UUID: `--session-id <uuid>` for a new conversation,
  `--resume <uuid>` to continue one (after a restart or a model switch); flags that would change
  the session (`--continue`, `--fork-session`, `-p`) are refused in extra arguments.
- Nothing here writes the user's Claude Code settings. Switching a model restarts the child with
  `--resume <uuid> --model <new>` (rather than injecting `/model`, which rewrites `settings.json`;
  see `switch_model_launch`).
- Restarting a Claude Code child (model switch, restart key, restore after a crash):
  `await wait_turn_saved(...)` before ending it, then `relaunch_resume(...)` for the `resume` flag
  (both in `heimdall.claude.transcripts`).
- `CLAUDE_OFFLINE_ENV` turns off every switch that would reach the internet (demo and tests).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from heimdall.claude.transcripts import check_session_id
from heimdall.process.launch import AgentLaunch, apply_env_changes, child_environment

# Set when Heimdall itself runs inside a Claude Code session (or its IDE bridge): a child that
# inherited them would think it is nested or try to reach the parent's IDE.
NESTED_CLAUDE_VARS = frozenset(
    {"CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_CODE_SSE_PORT", "CLAUDE_AGENT_SDK_VERSION"}
)

# Flags Heimdall owns: the session identity must stay the one Heimdall chose.
_SESSION_FLAGS = frozenset(
    {"--session-id", "--resume", "-r", "--continue", "-c", "--fork-session", "--print", "-p"}
)

CLAUDE_OFFLINE_ENV = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
    "CLAUDE_CODE_MAX_RETRIES": "2",
}
"""Every Claude Code switch that would reach the internet, off (docs/claude-code.md, Offline
switches): for the demo and the tests, which run it against a simulated upstream."""


def _check_extra_args(extra_args: Sequence[str], model: str | None) -> list[str]:
    args = list(extra_args)
    for arg in args:
        flag = arg.split("=", 1)[0]
        if flag in _SESSION_FLAGS:
            raise ValueError(
                f"extra argument {arg!r} is not allowed: Heimdall sets the session "
                "(--session-id / --resume) and runs Claude Code interactively"
            )
        if flag == "--model" and model is not None:
            raise ValueError(f"extra argument {arg!r} conflicts with the tab's model {model!r}")
    return args


def claude_launch(
    claude_bin: str,
    session_id: str,
    *,
    model: str | None,
    resume: bool,
    cwd: Path,
    gateway_env: Mapping[str, str | None],
    extra_args: Sequence[str] = (),
    base_env: Mapping[str, str] | None = None,
) -> AgentLaunch:
    """Claude Code for one tab: `claude --session-id|--resume <uuid> [--model M] [extra...]`."""
    if not claude_bin:
        raise ValueError("no Claude Code binary given")
    session_id = check_session_id(session_id)
    if model is not None and (not model.strip() or model.startswith("-")):
        raise ValueError(f"invalid model id {model!r}")
    args = _check_extra_args(extra_args, model)
    argv = [claude_bin, "--resume" if resume else "--session-id", session_id]
    if model is not None:
        argv += ["--model", model]
    argv += args
    env = child_environment(base_env, gateway_env, drop=NESTED_CLAUDE_VARS)
    return AgentLaunch(
        argv=argv,
        env=env,
        cwd=Path(cwd),
        session_id=session_id,
        model=model,
        resume=resume,
        extra_args=args,
    )


def switch_model_launch(
    launch: AgentLaunch, new_model: str, *, gateway_env: Mapping[str, str | None] | None = None
) -> AgentLaunch:
    """The launch that continues `launch`'s conversation on `new_model`.

    Restart with `--resume <same uuid> --model <new>`: the whole history goes to the new model and
    the session id (hence the gateway tag) is unchanged. Chosen over typing `/model <id>` into the
    running TUI because `/model` saves the model as the default in `$CLAUDE_CONFIG_DIR/settings.json`
    (a side effect on the user's files) and needs a confirm dialog that swallows typed text
    (docs/claude-code.md, Prompt footer); the restart costs about one Claude Code startup
    (0.5-0.8 s, measured by tests/e2e/test_model_switch.py).
    """
    if launch.session_id is None:
        raise ValueError("only Claude Code tabs can switch models")
    if not new_model or new_model.startswith("-"):
        raise ValueError(f"invalid model id {new_model!r}")
    env = apply_env_changes(dict(launch.env), gateway_env)
    argv = [launch.argv[0], "--resume", launch.session_id, "--model", new_model, *launch.extra_args]
    return replace(launch, argv=argv, env=env, model=new_model, resume=True)


# -- Claude Code's files -------------------------------------------------------------------
