"""Start a REAL LiteLLM proxy (PyPI `litellm[proxy]`, no database) on 127.0.0.1 for tests.

Not a fake: a launcher for the real thing, configured as in the gateway notes: bundled price map
(`LITELLM_LOCAL_MODEL_COST_MAP=True`) and the other offline switches, Prometheus callback,
end-user cost tracking, the session header as `user_header_name`, every model pointed at a
loopback Anthropic upstream (the simulated one). Readiness: `/health/liveliness` (~10 s).
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from heimdall.demo.simulated import SimulatedUpstream

DEFAULT_VENV = Path(__file__).resolve().parents[2] / ".test-deps" / "litellm"
MASTER_KEY = "sk-master-heimdall-test"
USER_HEADER = "x-heimdall-session"
MODELS = {
    "claude-sonnet-4-5": "anthropic/claude-sonnet-4-5",
    "claude-haiku-4-5": "anthropic/claude-haiku-4-5",
}
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    "HF_HUB_OFFLINE": "1",
    "LITELLM_TELEMETRY": "False",
    "DISABLE_SCHEMA_UPDATE": "True",
    "NO_PROXY": "*",
}


class LiteLLMUnavailable(RuntimeError):
    pass


def litellm_binary() -> Path:
    """The proxy's entry point: `HEIMDALL_TEST_LITELLM` (venv dir or binary), else .test-deps."""
    override = os.environ.get("HEIMDALL_TEST_LITELLM")
    base = Path(override) if override else DEFAULT_VENV
    binary = base if base.is_file() else base / "bin" / "litellm"
    if not binary.exists():
        raise LiteLLMUnavailable(
            f"LiteLLM proxy not installed at {binary} (run scripts/install-test-deps.sh)"
        )
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(
    path: Path,
    upstream_url: str,
    *,
    master_key: str = MASTER_KEY,
    user_header: str = USER_HEADER,
    metrics: bool = True,
) -> Path:
    """The proxy's config; `metrics=False` leaves out the Prometheus callback (the benchmark
    measures LiteLLM as docs/gateways.md, LiteLLM proxy runs it, without per-request metrics work)."""
    lines = ["model_list:"]
    for name, model in MODELS.items():
        lines += [
            f"  - model_name: {name}",
            "    litellm_params:",
            f"      model: {model}",
            f'      api_base: "{upstream_url}"',
            "      api_key: sk-ant-fake",
        ]
    lines += ["litellm_settings:", "  drop_params: true"]
    if metrics:
        lines += ['  callbacks: ["prometheus"]', "  enable_end_user_cost_tracking_prometheus_only: true"]
    lines += [
        "general_settings:",
        f"  master_key: {master_key}",
        f"  user_header_name: {user_header}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class LiteLLMProxy:
    url: str
    master_key: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_litellm(
    workdir: Path, upstream_url: str, *, timeout: float = 60.0, metrics: bool = True
) -> LiteLLMProxy:
    """Start the proxy and wait for `/health/liveliness`; raises `LiteLLMUnavailable` with its log."""
    binary = litellm_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    config = write_config(workdir / "litellm.yaml", upstream_url, metrics=metrics)
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "OPENAI_", "LITELLM_", "DATABASE_URL"))
    }
    env.update(OFFLINE_ENV)
    env["HOME"] = str(workdir)
    env["PATH"] = f"{binary.parent}{os.pathsep}{env.get('PATH', '')}"
    log_path = workdir / "litellm.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(binary), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    proxy = LiteLLMProxy(f"http://127.0.0.1:{port}", MASTER_KEY, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LiteLLMUnavailable(f"LiteLLM exited with {process.returncode}:\n{proxy.log_tail()}")
        try:
            if httpx.get(proxy.url + "/health/liveliness", timeout=1, trust_env=False).status_code == 200:
                return proxy
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proxy.stop()
    raise LiteLLMUnavailable(f"LiteLLM not ready within {timeout:g} s:\n{proxy.log_tail()}")


def cleanup(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class LiteLLMStack:
    """The simulated Anthropic upstream and a LiteLLM proxy in front of it."""

    upstream: SimulatedUpstream
    proxy: LiteLLMProxy


_shared: LiteLLMStack | None = None


def shared_stack() -> LiteLLMStack:
    """One proxy per test process (startup costs ~10 s), stopped at exit.

    Tests must use fresh session ids: the proxy's Prometheus counters are cumulative.
    """
    global _shared
    if _shared is None or _shared.proxy.process.poll() is not None:
        upstream = SimulatedUpstream()
        upstream.start()
        workdir = Path(tempfile.mkdtemp(prefix="heimdall-litellm-"))
        try:
            proxy = start_litellm(workdir, upstream.url)
        except BaseException:
            upstream.stop()
            raise
        _shared = LiteLLMStack(upstream, proxy)

        def stop(stack: LiteLLMStack = _shared, workdir: Path = workdir) -> None:
            stack.proxy.stop()
            stack.upstream.stop()
            cleanup(workdir)

        atexit.register(stop)
    return _shared
