"""Shared pytest configuration."""

import os

import numpy as np
import pytest

# Figures in tests never open a window.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    """A fresh, seeded Generator for each test."""
    return np.random.default_rng(20241124)
