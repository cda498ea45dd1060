"""Shared fixtures: workbooks built in tmp_path, plugins loaded fresh for each test."""

from __future__ import annotations

import importlib.metadata

import pytest

from helpers import HEADERS, write_workbook
from potentiel.manager import load_plugins


@pytest.fixture
def plugins():
    """The built-in plugins, loaded fresh (no entry points, so the test is hermetic)."""
    return load_plugins(entry_points=False)


@pytest.fixture
def workbook(tmp_path):
    def make(rows, headers=HEADERS, **kw):
        return write_workbook(tmp_path / "book.xlsx", headers, rows, **kw)
    return make


@pytest.fixture(autouse=True)
def _hermetic_plugins(monkeypatch):
    """Tests see the built-ins and their own plugins only: a plugin package installed in
    the venv (e.g. examples/potentiel-nps) or a blocking variable set by the user must not
    change their results. The entry-point test runs in a subprocess, unaffected."""
    monkeypatch.delenv("POTENTIEL_BLOCK_PLUGINS", raising=False)
    real = importlib.metadata.entry_points

    def entry_points(**kw):
        if kw.get("group") == "potentiel":
            return importlib.metadata.EntryPoints(())
        return real(**kw)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
