#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, checks lint, types and
# import contracts, then runs pytest.
# Extra arguments go to pytest (e.g. `scripts/test.sh -k emulator`).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh || { echo "test setup failed" >&2; exit 1; }
export HEIMDALL_TEST_CLAUDE="$PWD/.test-deps/claude/node_modules/@anthropic-ai/claude-code-linux-x64/claude"
export HEIMDALL_TEST_LITELLM="$PWD/.test-deps/litellm/bin/litellm"
.venv/bin/python -m ruff check app tests bench || exit 1
# The type checker and the import contracts (docs/layout.md, Import rules); both run even when the
# other fails, so one run reports everything.
guards=0
.venv/bin/python -m mypy || guards=1
.venv/bin/lint-imports || guards=1
[ "$guards" -eq 0 ] || { echo "mypy or import-linter failed" >&2; exit 1; }
.venv/bin/python -m pytest -q "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: treating as failure" >&2
  exit 1
fi
exit "$rc"
