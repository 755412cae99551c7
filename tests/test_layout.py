"""The package layout holds (docs/layout.md): an installed Heimdall is the `heimdall` package and
nothing named `app`, its detached gateway never sees the user's folder, and the light entry points
load no Textual."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from heimdall.config import Config, EmbeddedGatewayConfig
from heimdall.server.auth import load_or_create_token
from heimdall.server.launcher import ensure_embedded_gateway

from tests.fakes.anthropic import SimulatedUpstream

REPO_ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers are fine
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait_health(url: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            reply = httpx.get(url + "/health", timeout=2, trust_env=False)
            if reply.status_code == 200:
                body: dict[str, Any] = reply.json()
                return body
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no /health from {url} within {timeout:.0f} s")
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    """True once `pid` has exited (reaped when it is our child, as a started gateway is)."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        return reaped == pid
    except ChildProcessError:  # not our child: it is gone once signal 0 fails
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def _stop(pid: int, timeout: float = 10.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _gone(pid):
                return
            time.sleep(0.05)
    raise AssertionError(f"gateway {pid} survived SIGKILL")


@pytest.mark.timeout(120)
def test_gateway_started_from_a_project_with_its_own_app_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_upstream: SimulatedUpstream
) -> None:
    # A Flask/FastAPI-style project: its own `app` package, and for good measure a `heimdall` one
    # that would shadow ours if the user's folder were ever on the gateway's sys.path.
    project = tmp_path / "project"
    marker = tmp_path / "imported-from-project.txt"
    for package in ("app", "heimdall"):
        folder = project / package
        folder.mkdir(parents=True)
        code = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
        (folder / "__init__.py").write_text(code)
        (folder / "__main__.py").write_text(code)
    monkeypatch.setenv("HEIMDALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(project)
    port = _free_port()
    config = Config(embedded=EmbeddedGatewayConfig(port=port, upstream=fake_upstream.url))

    handle = ensure_embedded_gateway(config)
    health = _wait_health(f"http://127.0.0.1:{port}")
    pid = int(health["pid"])
    try:
        assert handle.started and handle.url == f"http://127.0.0.1:{port}"
        assert health["service"] == "heimdall-gateway"
        payload = {
            "model": "claude-haiku-4-5",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}],
        }
        reply = httpx.post(handle.url + "/anthropic/v1/messages", json=payload, timeout=10, trust_env=False)
        assert reply.status_code == 200, reply.text
        auth = {"Authorization": f"Bearer {load_or_create_token()}"}
        logs = httpx.get(handle.url + "/api/logs", headers=auth, timeout=10, trust_env=False)
        assert logs.status_code == 200 and logs.json()["pagination"]["total_count"] >= 1
        assert not marker.exists(), f"the project's packages were imported: {marker.read_text()!r}"
    finally:
        _stop(pid)
    assert _port_is_free(port), f"port {port} still taken after the gateway stopped"
    with pytest.raises(httpx.ConnectError):
        httpx.get(handle.url + "/health", timeout=2, trust_env=False)
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_wheel_holds_heimdall_and_no_top_level_app(tmp_path: Path) -> None:
    # Build from a copy, so the checkout gets no build/ or egg-info from this test.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for folder in ("app", "styles"):
        shutil.copytree(REPO_ROOT / folder, source / folder, ignore=skip)
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = dist.glob("heimdall_tui-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"heimdall"}, tops
    assert not any(name.startswith("app/") or name == "app" for name in names)
    for required in ("heimdall/__init__.py", "heimdall/__main__.py", "heimdall/cli.py", "heimdall/py.typed"):
        assert required in names, required
    styles = sorted(path.name for path in (REPO_ROOT / "styles").glob("*.tcss"))
    assert styles, "no .tcss files in styles/"
    assert sorted(n.removeprefix("heimdall/styles/") for n in names if n.endswith(".tcss")) == styles


@pytest.mark.parametrize("module", ["heimdall.commands.usage", "heimdall.server.app"])
def test_light_entry_points_load_no_textual(module: str, tmp_path: Path) -> None:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')"
        " or m == 'heimdall.tui' or m.startswith('heimdall.tui.'))\n"
        "print(json.dumps(loaded))\n"
    )
    run = subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [], f"{module} loads {run.stdout.strip()}"
