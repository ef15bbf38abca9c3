"""Shared fixtures: the small networks and data sets the engine, rule and kernel tests run.

Each config fixture is a factory: ``small_config(mode="coincidence")`` is the small network
with that one change, so a test names only what it is about. The data fixtures draw from
fixed seeds: the same arrays in every test that asks for the same arguments.
"""
import numpy as np
import pytest

from lava_ssnnbp.config import SSNNConfig

# The 20-16-2 network that learns Gaussian blobs: T = 30, the rate rule, no WTA, no dropout.
SMALL = dict(sizes=(20, 16, 2), steps=30, eta=0.02, wta=False, dropout=(), mode="rate")
# The 64-48-10 fixed-point network whose compiled and interpreted runs are compared bit for
# bit: T = 12, eta 0.3 (the defaults' WTA and dropout).
KERNEL = dict(sizes=(64, 48, 10), steps=12, fixed_point=True, eta=0.3)


@pytest.fixture
def small_config():
    """``small_config(**changes)``: the 20-16-2 blob network (``SMALL``) with ``changes``."""
    return lambda **changes: SSNNConfig(**{**SMALL, **changes})


@pytest.fixture
def kernel_config():
    """``kernel_config(**changes)``: the 64-48-10 fixed-point network (``KERNEL``) with ``changes``."""
    return lambda **changes: SSNNConfig(**{**KERNEL, **changes})


@pytest.fixture
def layer_config():
    """``layer_config(n_pre, n_post, **changes)``: one synapse layer, no dropout."""
    return lambda n_pre, n_post, **changes: SSNNConfig(sizes=(n_pre, n_post), dropout=(), **changes)


def _blobs(n, d=20, c=2, seed=0, spread=0.15):
    centers = np.random.default_rng(123).random((c, d))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    return np.clip(centers[y] + spread * rng.standard_normal((n, d)), 0, 1), y


@pytest.fixture
def blobs():
    """``blobs(n, d=20, c=2, seed=0, spread=0.15)``: ``n`` points (n, d) in [0, 1] around ``c``
    fixed random centres, and their labels (n,): separable classes to learn. ``seed`` picks
    the points, never the centres, so two seeds are a training and a test set."""
    return _blobs


def _sparse_images(n, inputs=64, seed=0, classes=10):
    rng = np.random.default_rng(seed)
    return rng.random((n, inputs)) * (rng.random((n, inputs)) < 0.7), rng.integers(0, classes, n)


@pytest.fixture
def sparse_images():
    """``sparse_images(n, inputs=64, seed=0, classes=10)``: ``n`` random images (n, inputs) in
    [0, 1] with about 30 % dark pixels, and random labels (n,)."""
    return _sparse_images
