"""Heimdall: several Claude Code sessions side by side, routed through an LLM gateway."""

__version__ = "0.1.0"
