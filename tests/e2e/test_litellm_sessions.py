"""End to end through a REAL LiteLLM proxy: real Claude Code tabs, the sidebar's exact money, and a
model switch that keeps the conversation.

Chain: HeimdallApp with SessionServices (`gateway.kind = "litellm"`) -> three pinned Claude Code
2.1.197 tabs -> LiteLLM 1.108.7 (no database, `POST /v1/messages?beta=true`) -> the simulated
Anthropic upstream with fixed usage per reply. LiteLLM's `general_settings.user_header_name` is Heimdall's
`gateway.litellm_user_header`, so each tab's session id becomes LiteLLM's `end_user`; spend is read
from LiteLLM's Prometheus counters (`GET /metrics/`), by Heimdall and, independently, by this test.

Checked per tab: Heimdall's figure == LiteLLM's own `litellm_spend_metric_total` for that end_user
== the requests the upstream answered for that session (attributed by `metadata.user_id`, which
LiteLLM forwards) x the known token counts x LiteLLM's bundled prices (sonnet-4-5 $3 / $15 / cache
read $0.30 / cache write $3.75 per MTok, haiku-4-5 $1 / $5 / $0.10 / $1.25), to 1e-9 USD; and the
same after tab 2 switches from haiku to sonnet through the model menu, split across both models.

What LiteLLM (without a database) cannot give, so neither the test nor the sidebar checks it:
- request times: no first/last request per session (the counters carry none), so burn rate and
  "since your prompt" rest on Heimdall's own poll times, not on LiteLLM's;
- a time window: counters are totals since the proxy started and reset when it restarts ("today"
  and `--since` cannot be applied); the shared proxy is why every session id here is fresh;
- Claude Code's own session header (`x-claude-code-session-id`), its custom headers and
  `?beta=true` are not forwarded upstream (LiteLLM calls `/v1/messages` with its own key and
  user agent), so the upstream can only attribute a request through the body's `metadata.user_id`;
- per-request rows (`/spend/logs` needs the database LiteLLM cannot set up offline).
Cache read / write tokens ARE reported (`litellm_input_cached_tokens_metric_total`,
`litellm_input_cache_creation_tokens_metric_total`) and are checked here.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from heimdall.config import Config
from heimdall.demo.simulated import SimulatedUsage
from heimdall.gateways import make_client
from heimdall.services.sessions import SessionServices
from heimdall.sessions.store import Session, SessionStore
from heimdall.spend.money import format_usd
from heimdall.tui.app import HeimdallApp
from heimdall.tui.screens.model_menu import ModelMenu
from heimdall.tui.widgets.spend_sidebar import TabSpendCard
from heimdall.tui.widgets.terminal_view import TerminalView
from rich.console import Console
from textual.widgets import DataTable, Label, Static

from tests.claude_support import claude_binary, claude_test_env
from tests.fakes.litellm import MASTER_KEY, USER_HEADER, LiteLLMStack, shared_stack

pytestmark = [pytest.mark.claude, pytest.mark.litellm, pytest.mark.timeout(240)]

SONNET = "claude-sonnet-4-5"
HAIKU = "claude-haiku-4-5"
# USD per million tokens in LiteLLM 1.108.7's bundled price map: input, output, cache read, write.
PRICES = {SONNET: (3.0, 15.0, 0.30, 3.75), HAIKU: (1.0, 5.0, 0.10, 1.25)}
USAGE = SimulatedUsage(
    input_tokens=1200, output_tokens=345, cache_creation_input_tokens=512, cache_read_input_tokens=2048
)
SPEND_METRIC = re.compile(r"^litellm_spend_metric_total\{(?P<labels>.*)\} (?P<value>\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def unit_cost(model: str) -> float:
    """One upstream reply with `USAGE`, at LiteLLM's prices."""
    p_in, p_out, p_read, p_write = PRICES[model]
    return (
        USAGE.input_tokens * p_in
        + USAGE.output_tokens * p_out
        + USAGE.cache_read_input_tokens * p_read
        + USAGE.cache_creation_input_tokens * p_write
    ) / 1e6


def litellm_spend(stack: LiteLLMStack) -> dict[tuple[str, str], float]:
    """LiteLLM's own numbers: `litellm_spend_metric_total` summed by (end_user, model)."""
    reply = httpx.get(
        f"{stack.proxy.url}/metrics/",
        headers={"Authorization": f"Bearer {stack.proxy.master_key}"},
        timeout=10,
        trust_env=False,
    )
    reply.raise_for_status()
    out: dict[tuple[str, str], float] = {}
    for line in reply.text.splitlines():
        match = SPEND_METRIC.match(line)
        if match:
            labels = dict(LABEL.findall(match["labels"]))
            key = (labels.get("end_user", ""), labels.get("requested_model") or labels.get("model", ""))
            out[key] = out.get(key, 0.0) + float(match["value"])
    return out


def session_of_request(entry: dict[str, Any]) -> str | None:
    """Claude Code 2.1.197 puts its session id in `metadata.user_id` (a JSON string)."""
    body = entry.get("body")
    if not isinstance(body, dict):
        return None
    try:
        return json.loads((body.get("metadata") or {}).get("user_id", ""))["session_id"]
    except (ValueError, TypeError, KeyError):
        return None


def upstream_calls(stack: LiteLLMStack, session_ids: list[str]) -> Counter[tuple[str, str]]:
    """Successful model calls the upstream answered, by (session, model)."""
    calls: Counter[tuple[str, str]] = Counter()
    for entry in stack.upstream.requests():
        if entry["path"].split("?")[0] != "/v1/messages" or not entry.get("note", "").startswith(
            ("stream", "json")
        ):
            continue
        session = session_of_request(entry)
        if session in session_ids:
            calls[(session, entry["body"]["model"])] += 1
    return calls


def plain_text(renderable: Any) -> str:
    """A Rich renderable as plain text, wide enough that nothing is ellipsised."""
    console = Console(width=120, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text()


def tab_text(view: TerminalView) -> str:
    term = view.terminal
    return "\n".join(term.text_line(i) for i in range(term.total_lines))


def ready(view: TerminalView) -> bool:
    """The prompt footer is on screen since the last (re)start of the tab's child."""
    return "? for shortcuts" in tab_text(view).rsplit("[heimdall] restarting", 1)[-1]


async def wait_until(pilot: Any, check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def settle(app: HeimdallApp, pilot: Any, stack: LiteLLMStack, ids: list[str],
                 done: Callable[[Counter[tuple[str, str]]], bool], what: str,
                 timeout: float = 40.0) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], float]]:
    """Poll until the upstream's calls, LiteLLM's counters and Heimdall's book agree per
    (session, model); returns that consistent snapshot (calls, LiteLLM spend)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        app.spend.refresh_now()
        await pilot.pause(0.2)
        calls = upstream_calls(stack, ids)
        spend = litellm_spend(stack)
        book = app.spend.book
        agreed = done(calls) and all(
            spend.get(key, 0.0) == pytest.approx(n * unit_cost(key[1]), abs=1e-9)
            and book.session_models(key[0]).get(key[1]) is not None
            and book.session_models(key[0])[key[1]].cost_usd == pytest.approx(spend[key], abs=1e-9)
            and book.session_models(key[0])[key[1]].requests == n
            for key, n in calls.items()
        ) and all(set(book.session_models(s)) == {m for (t, m) in calls if t == s} for s in ids)
        if agreed:
            return calls, spend
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"timed out waiting for {what}: upstream {dict(calls)}, LiteLLM {spend}, "
                f"Heimdall { {s: book.session_models(s) for s in ids} }"
            )


async def test_three_tabs_through_real_litellm_exact_spend_and_model_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claude = claude_binary()
    stack = shared_stack()  # one proxy per test run (~10 s to start); session ids are fresh
    saved_usage, saved_model_usage = stack.upstream.usage, stack.upstream.model_usage
    stack.upstream.usage, stack.upstream.model_usage = USAGE, {}

    config = Config()
    assert config.gateway.litellm_user_header == USER_HEADER  # = the proxy's user_header_name
    config.gateway.kind = "litellm"
    config.gateway.url = stack.proxy.url
    config.gateway.refresh_seconds = 0.5
    monkeypatch.setenv("HEIMDALL_LITELLM_KEY", MASTER_KEY)
    client = make_client(config)
    assert client.kind == "litellm"
    # A dead base URL: only Heimdall's session_env can route the tabs to LiteLLM.
    env = claude_test_env(tmp_path / "claude", "http://127.0.0.1:9", auth_token=None)
    project = tmp_path / "project"
    project.mkdir()
    tabs = [Session.new("api-fix", project, model=SONNET), Session.new("docs", project, model=HAIKU),
            Session.new("refactor", project, model=SONNET)]
    ids = [s.id for s in tabs]
    services = SessionServices(config, client, SessionStore(tmp_path / "sessions.json"), claude_bin=claude,
                               base_env=env, restore=False, first_sessions=tabs)
    app = HeimdallApp(config, services, freeze_gc=False)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            app.spend.toggle_expanded()  # six decimals on every card
            await wait_until(pilot, lambda: len(app.tabs) == 3 and all(map(ready, app.tabs)),
                             "three Claude Code prompts")
            for index, view in enumerate(app.tabs):
                app.activate(view)
                await pilot.pause()
                await pilot.press(*f"please explain the login module {index}", "enter")
            for view in app.tabs:
                await wait_until(pilot, lambda v=view: "FAKE-REPLY" in tab_text(v), "a reply")

            # a substantive first prompt makes two calls per tab: the title call (streaming,
            # output_config.format = json_schema) and the main call
            calls, spend = await settle(
                app, pilot, stack, ids, lambda c: all(c[(t.id, t.model)] >= 2 for t in tabs),
                "three tabs' spend")
            titles = {session_of_request(r) for r in stack.upstream.requests() if "title" in r["note"]}
            assert set(ids) <= titles
            mains = [r for r in stack.upstream.requests()
                     if session_of_request(r) in ids and "title" not in r["note"]]
            assert mains and all("context_management" in r["body"] for r in mains)  # not dropped
            book = app.spend.book
            expected: dict[str, float] = {}
            for tab in tabs:
                n = calls[(tab.id, tab.model)]
                assert n >= 1 and set(book.session_models(tab.id)) == {tab.model}
                expected[tab.id] = n * unit_cost(tab.model)
                assert spend[(tab.id, tab.model)] == pytest.approx(expected[tab.id], abs=1e-9)
                assert book.spent(tab.id) == pytest.approx(expected[tab.id], abs=1e-9)
                totals = book.session_totals(tab.id)
                assert (totals.input_tokens, totals.output_tokens) == (n * 1200, n * 345)
                assert (totals.cache_read_tokens, totals.cache_write_tokens) == (n * 2048, n * 512)
                assert totals.requests == n and totals.errors == 0
                card = next(c for c in app.query(TabSpendCard) if c.session_id == tab.id)
                assert str(card.query_one(".card-cost", Label).content) == format_usd(expected[tab.id], 6)
            by_model = book.model_totals()
            assert by_model[SONNET].cost_usd == pytest.approx(expected[ids[0]] + expected[ids[2]], abs=1e-9)
            assert by_model[HAIKU].cost_usd == pytest.approx(expected[ids[1]], abs=1e-9)
            litellm_total = sum(v for (user, _), v in spend.items() if user in ids)
            assert book.totals().cost_usd == pytest.approx(litellm_total, abs=1e-9)

            # tab 2 (haiku) -> sonnet from the model menu; the conversation goes along
            docs_view, docs = app.tabs[1], tabs[1]
            app.activate(docs_view)
            await pilot.pause()
            app.open_model_menu(docs_view)
            await wait_until(pilot, lambda: isinstance(app.screen, ModelMenu)
                             and bool(app.screen.query(DataTable)), "the model menu")
            table = app.screen.query_one(DataTable)
            await wait_until(pilot, lambda: table.row_count > 0, "LiteLLM's models")
            keys = [str(k.value) for k in table.rows]
            assert set(keys) == {SONNET, HAIKU}
            table.move_cursor(row=keys.index(SONNET))
            await pilot.press("enter")
            await wait_until(pilot, lambda: docs.model == SONNET and docs_view.running
                             and ready(docs_view) and "--resume" in docs_view.launch.argv,
                             "tab 2 restarted on sonnet")
            assert docs_view.launch.argv[-2:] == ["--model", SONNET] or SONNET in docs_view.launch.argv
            before = len(stack.upstream.requests())
            await pilot.press(*"again", "enter")
            await wait_until(pilot, lambda: f"from model={SONNET}" in tab_text(docs_view),
                             "a sonnet reply in tab 2")
            main_calls = [r for r in stack.upstream.requests()[before:]
                          if session_of_request(r) == docs.id and "again" in json.dumps(r["body"])]
            assert main_calls and main_calls[-1]["body"]["model"] == SONNET
            history = json.dumps(main_calls[-1]["body"]["messages"])
            assert "login module 1" in history and f"from model={HAIKU}" in history  # both turns kept

            calls, spend = await settle(
                app, pilot, stack, ids, lambda c: c[(docs.id, SONNET)] >= 1, "tab 2's split")
            split = app.spend.book.session_models(docs.id)
            assert set(split) == {HAIKU, SONNET}
            assert split[HAIKU].cost_usd == pytest.approx(expected[docs.id], abs=1e-9)  # unchanged
            assert split[SONNET].cost_usd == pytest.approx(
                calls[(docs.id, SONNET)] * unit_cost(SONNET), abs=1e-9)
            assert split[SONNET].cost_usd == pytest.approx(spend[(docs.id, SONNET)], abs=1e-9)
            card = next(c for c in app.query(TabSpendCard) if c.session_id == docs.id)
            await wait_until(pilot, lambda: card.query_one(".card-models", Static).display,
                             "the per-model rows on tab 2's card")
            rows = plain_text(card.query_one(".card-models", Static).content)
            assert f"{HAIKU} {format_usd(split[HAIKU].cost_usd)}" in " ".join(rows.split())
            assert f"{SONNET} {format_usd(split[SONNET].cost_usd)}" in " ".join(rows.split())
            await app.shutdown()
    finally:
        stack.upstream.usage, stack.upstream.model_usage = saved_usage, saved_model_usage
        await client.aclose()
