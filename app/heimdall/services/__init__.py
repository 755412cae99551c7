"""The domain behind the UI: sessions, gateway, spend, wired into one object the app holds.

Its own room because it composes rooms that sit below it (`sessions`, `gateways`, `spend`, `claude`)
and is used by `tui`, which sits above it: in `sessions` it would import upwards (the poller lives
in `spend`), and in `commands` the app could not import it. No Textual here.
"""
