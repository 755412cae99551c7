#!/usr/bin/env bash
# Installs everything the test suite drives, into the project folder (nothing global):
#   .venv/                 Heimdall + test tools
#   .test-deps/claude/     the pinned Claude Code from npm (native binary, no network at run time)
#   .test-deps/litellm/    a real LiteLLM proxy in its own venv (its pins must not touch ours)
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

CLAUDE_CODE_VERSION="${CLAUDE_CODE_VERSION:-2.1.197}"
LITELLM_VERSION="${LITELLM_VERSION:-1.108.7}"
PY="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

mkdir -p .test-deps
claude_bin=".test-deps/claude/node_modules/@anthropic-ai/claude-code-linux-x64/claude"
if [ ! -x "$claude_bin" ] || ! "$claude_bin" --version 2>/dev/null | grep -q "^$CLAUDE_CODE_VERSION"; then
  echo "installing Claude Code $CLAUDE_CODE_VERSION from npm..."
  mkdir -p .test-deps/claude
  npm install --silent --no-save --no-audit --no-fund --prefix .test-deps/claude \
    "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" >/dev/null
fi
"$claude_bin" --version

if [ ! -x .test-deps/litellm/bin/litellm ]; then
  echo "installing LiteLLM proxy $LITELLM_VERSION from PyPI..."
  "$PY" -m venv .test-deps/litellm
  .test-deps/litellm/bin/python -m pip install --quiet --upgrade pip
  .test-deps/litellm/bin/python -m pip install --quiet "litellm[proxy]==$LITELLM_VERSION" prometheus_client
fi
.test-deps/litellm/bin/python -c "import importlib.metadata as m; print('litellm', m.version('litellm'))"
