"""SSNN-BP per-time-step dynamics as pure array functions (the "one math").

Every rule of the model lives here once, one module per process family:

* ``randomness`` -- the named random streams (seed, sample index, stream);
* ``encoders`` -- input and target spike trains (``encode_sample``: each from
  the sample's own stream), dropout masks;
* ``neurons`` -- the IF step and the composite neuron (forward x, gated
  gradient neurons d+ / d-) of hidden and output layers;
* ``synapses`` -- forward and backward drives, WTA inhibition, the weights;
* ``replay`` -- the replay window of the chip-local rule ('replay' mode);
* ``learning`` -- the weight-update rules and the update itself.

Every name is re-exported here: callers write ``dynamics.if_step``. Functions take
state explicitly and return new state; arrays may carry any leading batch
dimensions. The Lava ProcessModels (``lava_ssnnbp.proc_models``) call them on
their own Vars, one sample at a time; the batched engine (``lava_ssnnbp.engine``)
calls them on many samples at once.

Floating point follows SPEC.md literally. Fixed point uses only integers of
hardware width (see ``fixed_point``); its forward neuron is Lava's bit-accurate
LIF with ``dv = 0`` (no leak) and a configurable reset.

The rules -- the IF and composite-neuron steps, Lava's Dense output, the WTA
input, the sign of a gradient spike pair, the weight update and its rounding,
replay firing, the random-number hashes -- are written once here, as plain
arithmetic on arrays or scalars (marked ``@jit.rule``). numpy runs them on
arrays; the compiled schedulers of ``lava_ssnnbp.accel`` (numba) call the same
functions, compiled, in their loops over units, steps and samples. This package
never imports ``accel``: where a function can use a compiled helper, the caller
passes it (``learn(..., add_block=)``, ``pair_block(..., pair_counter=)``,
``forward_drive_many(..., spike_drive=)``). The two hashes compile themselves
where numba is in use (``jit.compiled``: the same numbers either way).
"""
from .randomness import (
    STREAM_INPUT, STREAM_TARGET, STREAM_DROPOUT, STREAM_ROUNDING, STREAM_STOCHASTIC, STREAM_NOISE, STREAM_REPLAY,
    STREAM_FIRING, TEST_SEED_OFFSET, sample_rng, seed_sequence_state, NEURON_PURPOSES, neuron_keys,
    neuron_random16, neuron_keep_mask,
)
from .encoders import (
    input_probabilities, encode_input, encode_target, encode_sample, dropout_mask, sample_keep_mask,
    bernoulli_trains,
)
from .neurons import (
    NeuronParams, neuron_params, if_step, firing_randoms, CompositeState, composite_state,
    forward_step, hidden_step, output_step, composite_consts, fires, reset_voltage, if_update_fixed,
    if_update_float, fixed_if_consts, error_drive_fixed, error_drive_float, gated_outputs, composite_update_fixed,
    composite_update_float,
)
from .synapses import (
    exact_float_weights, forward_drive, forward_drive_many, backward_drive, wta_weight,
    wta_drive, init_weights, check_layer_weights, check_weights, float_weights,
    dense_output, gradient_sign, lateral_inhibition, _event_driven_pays,
)
from .replay import (
    REPLAY_RANDOM_BITS, REPLAY_TRAINS, replay_probability, replay_randoms, replay_spikes,
    replay_rng, ReplayPlan, replay_plan, replay_fire, replay_window, replay_draws, replay_trains,
    replay_draws_loihi2,
)
from ..rates import update_denominator, learning_shift, effective_eta
from .learning import (
    coincidence_numerator, causal_numerator, PAIR_NUMERATORS, PairBlock, pair_block, rate_numerator,
    stochastic_numerator, stochastic_noise_std, fixed_point_step, rounding_rng, fixed_weight_update,
    float_weight_update, apply_update, learning_numerator, update_weights, learning_support, learn,
    block_update_fits,
)
