"""Shared fixtures: tiny synthetic images and the optional real datasets.

Real data is read (never copied) from ``$FACELANDMARKS_MUCT`` / ``$FACELANDMARKS_WILD``, by
default ``<repo>/../shared/muct`` and ``<repo>/../shared/wild``; tests that need it skip with a
reason when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
MUCT_ROOT = Path(os.environ.get("FACELANDMARKS_MUCT") or REPO.parent / "shared" / "muct")
WILD_ROOT = Path(os.environ.get("FACELANDMARKS_WILD") or REPO.parent / "shared" / "wild")


@pytest.fixture(scope="session")
def muct_root() -> Path:
    """The real MUCT folder ($FACELANDMARKS_MUCT, default ../shared/muct), or skip."""
    if not (MUCT_ROOT / "muct-landmarks" / "muct76-opencv.csv").is_file():
        pytest.skip(f"MUCT database not found at {MUCT_ROOT} (set FACELANDMARKS_MUCT)")
    return MUCT_ROOT


@pytest.fixture(scope="session")
def muct(muct_root):
    from facelandmarks import load_muct

    return load_muct(muct_root)


@pytest.fixture(scope="session")
def wild_root() -> Path:
    """The in-the-wild 300-W folder ($FACELANDMARKS_WILD, default ../shared/wild), or skip."""
    if not WILD_ROOT.is_dir() or not any(WILD_ROOT.rglob("*.pts")):
        pytest.skip(f"In-the-wild .pts data not found at {WILD_ROOT} (set FACELANDMARKS_WILD)")
    return WILD_ROOT


@pytest.fixture(scope="session")
def wild(wild_root):
    from facelandmarks.datasets import load_ibug

    return load_ibug(wild_root)


@pytest.fixture()
def scheme_registry():
    """Restores the point-scheme registry after a test that registers schemes of its own."""
    from facelandmarks import schemes

    tables = (schemes._REGISTRY, schemes._DEFAULT_FOR_POINTS, schemes._CORRESPONDENCES)
    saved = [dict(t) for t in tables]
    yield schemes
    for table, before in zip(tables, saved, strict=True):
        table.clear()
        table.update(before)


@pytest.fixture()
def five_points():
    """An unregistered 5-point face scheme: eye corners, nose tip, mouth corners."""
    from facelandmarks.schemes import PointScheme

    return PointScheme(
        name="test5",
        num_points=5,
        point_names=("eye_l", "eye_r", "nose", "mouth_l", "mouth_r"),
        mirror=(1, 0, 2, 4, 3),
        eye_corners=(0, 1),
        contours=(((0, 1), False), ((3, 4), False)),
        eyes=((0,), (1,)),
        mouth=(3, 4),
    )


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
