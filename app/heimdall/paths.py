"""Where Heimdall keeps its files.

| What                     | Where (Linux default)                        | Override            |
|--------------------------|----------------------------------------------|---------------------|
| `config.toml`            | `~/.config/heimdall/`                        | `HEIMDALL_CONFIG`   |
| sessions, gateway DB/token | `~/.local/share/heimdall/`                 | `HEIMDALL_DATA_DIR` |

Directories are created with mode 0700: they hold session ids and a gateway token.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "heimdall"


def config_path() -> Path:
    """The config file: `HEIMDALL_CONFIG`, else `config.toml` in the platform config dir."""
    override = os.environ.get("HEIMDALL_CONFIG")
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def data_dir(create: bool = True) -> Path:
    """The data dir (sessions, embedded-gateway database and token)."""
    override = os.environ.get("HEIMDALL_DATA_DIR")
    path = Path(override).expanduser() if override else platformdirs.user_data_path(APP_NAME)
    if create:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
