"""`SessionServices`: everything `heimdall` knows about its sessions that is not drawing.

It owns the session store, the gateway client, the `UsageBook` and the one `UsagePoller`, and
decides how a session's tab is launched: every Claude Code tab is a `Session` (UUID =
`--session-id`, later `--resume`, and the gateway tag); sessions live in the `SessionStore`, so
after a restart or a crash the same tabs come back and resume their conversations; children get
the gateway's environment (`client.session_env`) and a tab's budget is handed to the gateway
(`client.open_session`). The app (tui) holds one of these and asks it; widgets only draw what it
holds. No Textual: the poller's loop is driven by a worker on the tui side.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from heimdall.claude.install import find_claude
from heimdall.claude.launch import claude_launch, switch_model_launch
from heimdall.claude.settings import claude_config_dir
from heimdall.claude.transcripts import relaunch_resume, wait_turn_saved
from heimdall.config import Config
from heimdall.gateways.protocol import GatewayClient, GatewayError, SessionRef
from heimdall.process.launch import AgentLaunch, command_launch
from heimdall.sessions.activity import Activity
from heimdall.sessions.store import Session, SessionStore
from heimdall.spend.book import UsageBook
from heimdall.spend.notices import Notice, activity_notice, budget_notice
from heimdall.spend.poller import PollResult, UsagePoller


def _ref(session: Session) -> SessionRef:
    return SessionRef(session.id, session.name, session.budget_usd)


class SessionServices:
    """Sessions, gateway client, spend book and poller for one `heimdall` run."""

    def __init__(
        self,
        config: Config,
        client: GatewayClient,
        store: SessionStore,
        *,
        claude_bin: str | None = None,
        base_env: Mapping[str, str] | None = None,
        demo: bool = False,
        restore: bool = True,
        first_sessions: Sequence[Session] = (),
        credential_missing: bool = False,
        upstream: str = "",
    ) -> None:
        self.config = config
        self.client = client
        self.store = store
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.claude_bin = claude_bin if claude_bin is not None else find_claude(self.base_env)
        self.demo = demo
        """Simulated upstream: every figure is labelled demo."""
        self.restore = restore
        """Reopen the sessions saved by the last run."""
        self.first_sessions = list(first_sessions)
        """Sessions to open at start besides the restored ones (added to the store then)."""
        self.credential_missing = credential_missing
        """The embedded gateway has no upstream credential: explain before opening tabs."""
        self.upstream = upstream
        self.book = UsageBook()
        self._tab_ids: Callable[[], Sequence[str]] = list
        self.poller = UsagePoller(
            client, self.book, self._poll_ids,
            refresh_seconds=config.gateway.refresh_seconds, since=self._oldest_open,
        )

    # -- open sessions ------------------------------------------------------------------------------

    def follow_tabs(self, tab_ids: Callable[[], Sequence[str]]) -> None:
        """Where the open tabs' session ids come from, in tab order (the app's workspace)."""
        self._tab_ids = tab_ids

    def open_sessions(self) -> list[Session]:
        """Sessions of the open tabs, in tab order (the sidebar's cards)."""
        found = (self.store.get(session_id) for session_id in self._tab_ids())
        return [session for session in found if session is not None]

    def session(self, session_id: str | None) -> Session | None:
        return self.store.get(session_id) if session_id is not None else None

    def _poll_ids(self) -> list[str]:
        sessions = self.open_sessions()
        for session in sessions:  # the book needs budgets before it sees a report, to tell crossings
            if self.book.budget(session.id) != session.budget_usd:
                self.book.set_budget(session.id, session.budget_usd)
        return [session.id for session in sessions]

    def _oldest_open(self) -> datetime | None:
        # the oldest open tab bounds what the gateway must read
        return min((session.created_at for session in self.open_sessions()), default=None)

    # -- start-up -----------------------------------------------------------------------------------

    def needs_claude(self) -> bool:
        """Claude Code is missing and the tabs to open (or the first new one) would need it."""
        wanted = (list(self.store.sessions) if self.restore else []) + self.first_sessions
        return self.claude_bin is None and (not wanted or any(s.is_claude for s in wanted))

    def look_for_claude(self) -> None:
        """After the first-run screen installed it."""
        self.claude_bin = find_claude(self.base_env)

    def initial_sessions(self) -> list[Session]:
        """The sessions to open at start, in order; the first-run ones join the store."""
        restored = list(self.store.sessions) if self.restore else []
        for session in self.first_sessions:
            if self.store.get(session.id) is None:
                self.store.add(session)
        return restored + self.first_sessions

    def new_session_cwd(self, active_id: str | None) -> str:
        """Where a new session starts: the active session's project, else the configured cwd."""
        active = self.session(active_id)
        if active is not None:
            return active.project_dir or active.cwd
        return self.config.agent.cwd or os.getcwd()

    def add(self, session: Session) -> None:
        self.store.add(session)

    # -- launches -----------------------------------------------------------------------------------

    @property
    def shell(self) -> str:
        return self.base_env.get("SHELL", "/bin/sh")

    def command_launch(self, command: str | None, cwd: Path | None) -> AgentLaunch:
        """A plain tab (shell, command prompt): no session, no gateway."""
        cwd = cwd or Path(self.config.agent.cwd or os.getcwd())
        return command_launch(command or os.environ.get("SHELL", "/bin/sh"), cwd, self.base_env)

    def gateway_env(self, session: Session) -> dict[str, str | None]:
        return self.client.session_env(_ref(session), self.base_env)

    def _child_config_dir(self, env: Mapping[str, str | None]) -> Path:
        child_env = {**self.base_env, **{k: v for k, v in env.items() if v is not None}}
        return claude_config_dir(child_env)

    async def launch(self, session: Session) -> AgentLaunch:
        """The session's child: its command, or Claude Code through the gateway."""
        if session.command is not None:
            return command_launch(session.command, Path(session.cwd), self.base_env)
        if self.claude_bin is None:
            raise RuntimeError("Claude Code is not installed (no `claude` on PATH)")
        env = self.gateway_env(session)
        with contextlib.suppress(GatewayError):  # the tab still runs; the sidebar says why
            await self.client.open_session(_ref(session))
        # relaunch_resume repairs a session whose first turn was never saved (Claude Code then
        # refuses both --resume and --session-id for it)
        resume = session.started and relaunch_resume(session.id, self._child_config_dir(env))
        launch = claude_launch(
            self.claude_bin,
            session.id,
            model=session.model,
            resume=resume,
            cwd=Path(session.cwd),
            gateway_env=env,
            extra_args=self.config.agent.extra_args,
            base_env=self.base_env,
        )
        if not session.started:
            session.started = True
            self.store.update(session)
        return launch

    async def switch_model(self, session: Session, model: str, current: AgentLaunch) -> AgentLaunch:
        """Record the switch and return the launch that continues the conversation on `model`."""
        session.switch_model(model)
        self.store.update(session)
        env = self.gateway_env(session)
        config_dir = self._child_config_dir(env)
        # Claude Code writes a turn to its transcript shortly after showing it: ending the child
        # inside that window would lose the turn
        await wait_turn_saved(session.id, config_dir)
        if relaunch_resume(session.id, config_dir):
            return switch_model_launch(current, model, gateway_env=env)
        return await self.launch(session)  # no conversation yet (no transcript): start fresh

    # -- what happens to sessions -----------------------------------------------------------------

    def mark_prompt(self, session_id: str | None, at: datetime | None = None) -> None:
        """Enter in a tab: "since your prompt" starts now."""
        session = self.session(session_id)
        if session is None:
            return
        at = at or datetime.now(UTC)
        self.book.mark_prompt(session.id, at)
        session.last_prompt_at = at  # saved with the next store write (cheap, not per key)

    def rename(self, session_id: str | None, name: str | None) -> bool:
        """A renamed tab renames its session (saved at once); True when something changed."""
        session = self.session(session_id)
        if session is None or not name or name == session.name:
            return False
        session.name = name
        self.store.update(session)
        return True

    def forget(self, session_id: str | None) -> Session | None:
        """A closed tab's session leaves the store at once (it will not come back at restart)."""
        return self.store.remove(session_id) if session_id is not None else None

    async def release(self, session: Session) -> None:
        """Release a forgotten session's gateway resources (e.g. a Bifrost virtual key)."""
        with contextlib.suppress(GatewayError):
            await self.client.close_session(_ref(session))

    # -- notices ------------------------------------------------------------------------------------

    def activity_notice(self, session_id: str | None, old: Activity, new: Activity, *,
                        background: bool) -> Notice | None:
        session = self.session(session_id)
        if session is None:
            return None
        return activity_notice(session.name, session.id, session.model, old, new,
                               background=background, book=self.book, demo=self.demo)

    def budget_notices(self, result: PollResult) -> list[Notice]:
        notices = []
        for crossing in result.crossings:
            session = self.store.get(crossing.session_id)
            name = session.name if session else crossing.session_id[:8]
            notices.append(budget_notice(name, crossing, demo=self.demo))
        return notices

    # -- the end ------------------------------------------------------------------------------------

    def save(self) -> None:
        """Last-prompt times and tab order (written at quit; everything else is saved at once)."""
        with contextlib.suppress(OSError):
            self.store.save()

    async def aclose(self) -> None:
        """Close the gateway client (bounded: a hung gateway must not hold up quitting)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.aclose(), timeout=2)
