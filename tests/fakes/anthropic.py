"""The fake Anthropic upstream for tests: the shipped simulator, re-exported.

It lives in the package (`heimdall.demo.simulated`) because `heimdall demo` uses it too; tests import
it from here so the fakes for every upstream sit side by side under `tests/fakes/`.
"""

from heimdall.demo.simulated import (
    DEFAULT_REPLY_SUFFIX,
    ERROR_TYPES,
    SIMULATED_MODELS,
    SimulatedUpstream,
    SimulatedUpstreamError,
    SimulatedUsage,
)

FakeAnthropic = SimulatedUpstream

__all__ = [
    "DEFAULT_REPLY_SUFFIX",
    "ERROR_TYPES",
    "SIMULATED_MODELS",
    "FakeAnthropic",
    "SimulatedUpstream",
    "SimulatedUpstreamError",
    "SimulatedUsage",
]
