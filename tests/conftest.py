"""Shared fixtures: tiny synthetic images and the optional real MUCT folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
MUCT_ROOT = Path(os.environ.get("FACELANDMARKS_MUCT", REPO.parent / "shared" / "muct"))


@pytest.fixture(scope="session")
def muct_root() -> Path:
    """The real MUCT folder (../shared/muct), or skip."""
    if not (MUCT_ROOT / "muct-landmarks" / "muct76-opencv.csv").is_file():
        pytest.skip(f"MUCT database not found at {MUCT_ROOT} (set FACELANDMARKS_MUCT)")
    return MUCT_ROOT


@pytest.fixture(scope="session")
def muct(muct_root):
    from facelandmarks import load_muct

    return load_muct(muct_root)


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
