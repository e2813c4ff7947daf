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


def _legacy_layout(path: Path, *, head_shape: tuple[int, int] = (2048, 152)) -> Path:
    """The 2019 file's complete layout (names, shapes, dtypes; Keras 2.2.4 attributes) with the
    values of the head only: the backbone's datasets store no data (they read as zeros)."""
    import h5py

    from facelandmarks import _legacy_h5

    groups: list[tuple[str, list[tuple[str, tuple[int, ...]]]]] = [("input_1", [])]
    groups.append(
        (
            "resnet50",
            [
                (_legacy_h5._old_weight_name(f"{layer}/{w}") + ":0", shape)
                for (layer, w), shape in _legacy_h5._expected_backbone_shapes().items()
            ],
        )
    )
    groups.append(("dense_1", [("dense_1/kernel:0", head_shape), ("dense_1/bias:0", (152,))]))
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n, _ in groups], dtype=bytes)
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for name, weights in groups:
            g = f.create_group(name)
            g.attrs["weight_names"] = np.array([w.encode() for w, _ in weights], dtype=bytes)
            for w, shape in weights:
                if name == "dense_1":  # real values: the file is over 1 MB, like a real one
                    g.create_dataset(w, data=rng.normal(size=shape).astype("float32"))
                else:
                    g.create_dataset(w, shape=shape, dtype="float32")
    return path


@pytest.fixture()
def legacy_layout():
    """Writes the 2019 ``weights.h5`` layout (values of the head only; over 1 MB) to a path."""
    return _legacy_layout
