"""`heimdall` itself (commands.tui.build_tui_app): reuses the embedded gateway, explains a missing credential,
restores saved sessions."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from heimdall.commands.tui import build_tui_app
from heimdall.config import Config
from heimdall.sessions.store import Session, SessionStore
from heimdall.tui.app import RUN_DEMO_EXIT
from heimdall.tui.screens.first_run import MissingCredentialScreen

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from heimdall.demo.simulated import SimulatedUpstream
    from heimdall.server.app import GatewaySettings, RunningGateway

    monkeypatch.setenv("HEIMDALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HEIMDALL_GATEWAY_TOKEN", "tok-" + "x" * 24)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN",
                 "CLAUDE_CONFIG_DIR", "HEIMDALL_UPSTREAM_KEY"):
        monkeypatch.delenv(name, raising=False)
    upstream = SimulatedUpstream()
    upstream.start()
    running = RunningGateway(GatewaySettings(token="tok-" + "x" * 24, db_path=tmp_path / "gw.db",
                                             port=0, upstream=upstream.url)).start()
    yield running
    running.stop()
    upstream.stop()


def config_for(gateway, tmp_path: Path) -> Config:
    config = Config()
    config.embedded.port = gateway.port
    config.agent.command = "bash"  # no Claude Code needed for these checks
    config.agent.cwd = str(tmp_path)
    return config


async def test_missing_credential_screen_then_demo(gateway, tmp_path: Path) -> None:
    app = build_tui_app(argparse.Namespace(fresh=False, tabs=2), config_for(gateway, tmp_path))
    client = app.services.client
    assert client.kind == "embedded" and client.base_url == gateway.url
    async with app.run_test(size=(100, 34)) as pilot:
        for _ in range(200):
            if isinstance(app.screen, MissingCredentialScreen) and app.screen.query("#demo"):
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, MissingCredentialScreen)
        await pilot.click("#demo")
        await pilot.pause()
    assert app.return_value == RUN_DEMO_EXIT  # run_tui then runs `heimdall demo`
    assert not app.tabs  # nothing started before the user chose


async def test_with_a_credential_tabs_open_and_sessions_are_restored(
    gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    saved = Session.new("saved", tmp_path, command="bash")
    SessionStore().add(saved)
    app = build_tui_app(argparse.Namespace(fresh=False, tabs=2), config_for(gateway, tmp_path))
    async with app.run_test(size=(100, 34)) as pilot:
        for _ in range(200):
            if app.tabs:
                break
            await pilot.pause(0.02)
        assert [v.session_id for v in app.tabs] == [saved.id]
        assert not isinstance(app.screen, MissingCredentialScreen)
        view = app.tabs[0]
        app.workspace.rename(view, "renamed")
        await pilot.pause()
        assert [s.name for s in SessionStore().load()] == ["renamed"]  # saved at once
        await app.close_tab(view)
        await pilot.pause()
        assert SessionStore().load() == []  # a closed tab is forgotten
        await app.shutdown()
    SessionStore().add(saved)
    fresh = build_tui_app(argparse.Namespace(fresh=True, tabs=2), config_for(gateway, tmp_path))
    assert [s.command for s in fresh.services.first_sessions] == ["bash"]
    assert not fresh.services.restore
