"""Named random streams: every draw is fixed by (seed, sample index, stream), so a
resumed run and the two schedulers (engine, Lava) draw the same numbers."""

from __future__ import annotations

import numpy as np


# Every random draw of a sample comes from its own stream, so a batched run and
# a one-sample-at-a-time Lava run draw exactly the same numbers.
STREAM_INPUT, STREAM_TARGET = 0, 1
STREAM_DROPOUT = 10      # + neuron layer
STREAM_ROUNDING = 100    # + synapse layer
STREAM_STOCHASTIC = 200  # + synapse layer
STREAM_NOISE = 300       # + synapse layer
STREAM_REPLAY = 400      # + neuron layer
STREAM_FIRING = 500      # + neuron layer ('stochastic_firing')
TEST_SEED_OFFSET = 1_000_003   # test-time inputs come from streams of seed + this, apart from training's


def sample_rng(seed: int, sample_index: int, stream: int) -> np.random.Generator:
    """Generator for one (seed, sample, purpose) triple."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, sample_index, stream])))
