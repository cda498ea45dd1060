"""Shared fixtures: workbooks built in tmp_path, plugins loaded fresh for each test."""

from __future__ import annotations

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
def _no_blocked_plugins(monkeypatch):
    monkeypatch.delenv("POTENTIEL_BLOCK_PLUGINS", raising=False)
