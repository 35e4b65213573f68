"""Fixtures for the loader tests (the writers live in official_layouts.py)."""

from __future__ import annotations

import pytest
from official_layouts import Writer


@pytest.fixture
def write() -> Writer:
    return Writer()
