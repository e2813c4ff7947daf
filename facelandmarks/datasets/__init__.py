"""Datasets: the generic :class:`LandmarkDataset` and format readers."""

from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.datasets.ibug import PtsFormatError, load_ibug, read_pts
from facelandmarks.datasets.muct import MuctFormatError, load_muct

__all__ = [
    "LandmarkDataset",
    "MuctFormatError",
    "PtsFormatError",
    "load_ibug",
    "load_muct",
    "read_pts",
]
