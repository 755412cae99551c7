"""The .tcss stylesheets, shipped as package data (`heimdall.styles`); see pyproject.toml."""
