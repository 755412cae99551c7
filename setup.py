"""Packages: everything under the `app/` source root, plus `heimdall.styles`, which is the
top-level `styles/` folder (see `package-dir` in pyproject.toml). pyproject's `packages.find`
cannot name a package that lives outside `where`, hence this file."""

from setuptools import find_packages, setup

setup(packages=[*find_packages("app", include=["heimdall*"]), "heimdall.styles"])
