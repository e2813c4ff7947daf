"""Datasets: the generic :class:`LandmarkDataset` and format readers."""

from facelandmarks.datasets.base import LandmarkDataset
from facelandmarks.datasets.muct import MuctFormatError, load_muct

__all__ = ["LandmarkDataset", "MuctFormatError", "load_muct"]
