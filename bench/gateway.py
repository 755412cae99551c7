"""Embedded gateway overhead, measured against direct upstream calls and a real LiteLLM proxy.

All three targets serve the same simulated Anthropic upstream (its own process) in the same run:

- direct:   client -> simulated upstream
- embedded: client -> `heimdall gateway` (its own process, metering into SQLite) -> upstream
- litellm:  client -> LiteLLM proxy (no DB, the config of docs/gateways.md, LiteLLM proxy) -> upstream

Printed: per-request latency p50/p99 for non-streamed calls and time-to-first-byte for streamed
calls (the "added" figures subtract direct's), then requests/s at concurrency 1, 8 and 64.
Rounds are interleaved, in a shuffled order each round, so drift on a shared machine and a
proxy's after-response work (LiteLLM keeps a core busy logging each call) hit every target
alike. No assertions: figures only.

    .venv/bin/python bench/gateway.py [--n 300] [--seconds 3] [--no-litellm]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.fakes.litellm import LiteLLMProxy, LiteLLMUnavailable  # noqa: E402
from tests.fakes.litellm import start_litellm as launch_litellm  # noqa: E402

MODEL = "claude-sonnet-4-5"


def body(stream: bool) -> dict:
    return {
        "model": MODEL,
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": "benchmark"}],
    }


class Target:
    def __init__(self, name: str, url: str, headers: dict[str, str]) -> None:
        self.name, self.url, self.headers = name, url, headers


def start_ready(
    argv: list[str], prefix: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(prefix):
        proc.kill()
        raise SystemExit(f"{argv[2]} did not start: {line!r}")
    return proc, line[len(prefix) :].split()[0]


def start_litellm(upstream: str, workdir: Path) -> LiteLLMProxy | None:
    """The real LiteLLM proxy, started the way the tests start it (tests/fakes/litellm.py)."""
    try:
        started = time.monotonic()
        proxy = launch_litellm(workdir / "litellm", upstream, metrics=False)
    except LiteLLMUnavailable as exc:
        print(f"(LiteLLM skipped: {str(exc).splitlines()[0]})")
        return None
    print(f"LiteLLM ready in {time.monotonic() - started:.1f} s")
    return proxy


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def one_json(client: httpx.Client, t: Target) -> float:
    start = time.perf_counter()
    r = client.post(t.url, json=body(False), headers=t.headers)
    elapsed = time.perf_counter() - start
    if r.status_code != 200:
        raise SystemExit(f"{t.name}: HTTP {r.status_code} {r.text[:200]}")
    return elapsed * 1000


def one_ttfb(client: httpx.Client, t: Target) -> float:
    start = time.perf_counter()
    with client.stream("POST", t.url, json=body(True), headers=t.headers) as r:
        chunks = r.iter_raw()
        next(chunks)
        ttfb = time.perf_counter() - start
        for _ in chunks:
            pass
    if r.status_code != 200:
        raise SystemExit(f"{t.name}: HTTP {r.status_code}")
    return ttfb * 1000


def latency_rounds(targets: list[Target], n: int) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {t.name: {"json": [], "ttfb": []} for t in targets}
    clients = {t.name: httpx.Client(timeout=30, trust_env=False) for t in targets}
    for t in targets:  # warm-up: connections, imports, first-request paths
        for _ in range(10):
            one_json(clients[t.name], t)
            one_ttfb(clients[t.name], t)
    order = list(targets)
    shuffle = random.Random(1234).shuffle
    for _ in range(n):
        shuffle(order)  # a proxy's after-response work (LiteLLM's logging) hits whoever is next
        for t in order:
            out[t.name]["json"].append(one_json(clients[t.name], t))
        shuffle(order)
        for t in order:
            out[t.name]["ttfb"].append(one_ttfb(clients[t.name], t))
    for c in clients.values():
        c.close()
    return out


async def throughput(t: Target, concurrency: int, seconds: float) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits, trust_env=False) as client:
        stop = time.perf_counter() + seconds
        count = 0
        errors = 0

        async def worker() -> None:
            nonlocal count, errors
            while time.perf_counter() < stop:
                r = await client.post(t.url, json=body(False), headers=t.headers)
                if r.status_code == 200:
                    count += 1
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if errors:
        print(f"  ({t.name} c={concurrency}: {errors} non-200 answers)")
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300, help="measured requests per target and kind")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each throughput run")
    parser.add_argument("--no-litellm", action="store_true")
    args = parser.parse_args()

    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {when}")
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="heimdall-bench-") as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "HEIMDALL_DATA_DIR": str(workdir / "data"), "PYTHONUNBUFFERED": "1"}
        try:
            up_proc, upstream = start_ready(
                [sys.executable, "-m", "heimdall.demo.simulated", "--port", "0"], "READY ", env
            )
            procs.append(up_proc)
            gw_proc, gateway = start_ready(
                [sys.executable, "-m", "heimdall", "gateway", "--port", "0", "--upstream", upstream,
                 "--db", str(workdir / "gw.db")],
                "heimdall gateway ready on ",
                env,
            )
            procs.append(gw_proc)
            client_headers = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-fake"}
            targets = [
                Target("direct", upstream + "/v1/messages", client_headers),
                Target(
                    "embedded",
                    gateway + "/anthropic/v1/messages",
                    {**client_headers, "x-bf-lh-session": "bench"},
                ),
            ]
            if not args.no_litellm:
                proxy = start_litellm(upstream, workdir)
                if proxy is not None:
                    procs.append(proxy.process)
                    targets.append(
                        Target("litellm", proxy.url + "/v1/messages",
                               {"anthropic-version": "2023-06-01", "x-api-key": proxy.master_key})
                    )
            print(f"\nlatency, {args.n} interleaved rounds per target (ms):")
            results = latency_rounds(targets, args.n)
            base = results["direct"]
            base_json, base_ttfb = statistics.median(base["json"]), statistics.median(base["ttfb"])
            base_json99, base_ttfb99 = percentile(base["json"], 0.99), percentile(base["ttfb"], 0.99)
            print(f"{'target':10} {'json p50':>9} {'json p99':>9} {'added p50':>10} {'added p99':>10}"
                  f" {'ttfb p50':>9} {'ttfb p99':>9} {'added p50':>10} {'added p99':>10}")
            added: dict[str, tuple[float, float]] = {}
            for t in targets:
                r = results[t.name]
                j50, j99 = statistics.median(r["json"]), percentile(r["json"], 0.99)
                f50, f99 = statistics.median(r["ttfb"]), percentile(r["ttfb"], 0.99)
                added[t.name] = (j50 - base_json, f50 - base_ttfb)
                print(f"{t.name:10} {j50:9.3f} {j99:9.3f} {j50 - base_json:10.3f} {j99 - base_json99:10.3f}"
                      f" {f50:9.3f} {f99:9.3f} {f50 - base_ttfb:10.3f} {f99 - base_ttfb99:10.3f}")
            if "litellm" in added:
                emb, lit = added["embedded"], added["litellm"]
                print(f"\nLiteLLM overhead / embedded overhead: json p50 {lit[0] / max(emb[0], 1e-3):.1f}x,"
                      f" ttfb p50 {lit[1] / max(emb[1], 1e-3):.1f}x")
            print(f"\nthroughput, non-streamed requests/s ({args.seconds:.0f} s per cell):")
            print(f"{'target':10} " + " ".join(f"{'c=' + str(c):>9}" for c in (1, 8, 64)))
            for t in targets:
                cells = [asyncio.run(throughput(t, c, args.seconds)) for c in (1, 8, 64)]
                print(f"{t.name:10} " + " ".join(f"{v:9.1f}" for v in cells))
            token = (workdir / "data" / "gateway-token").read_text().strip()
            stats = httpx.get(gateway + "/api/logs/stats", params={"metadata_session": "bench"},
                              headers={"Authorization": f"Bearer {token}"}).json()
            print(f"\nembedded gateway metered {stats['total_requests']} requests, "
                  f"${stats['total_cost']:.6f}, success {stats['success_rate']:.1f}%")
        finally:
            for proc in reversed(procs):
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
