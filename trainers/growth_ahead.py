"""Growth prepared ahead: the next stage's networks, optimizers and traced train step, made in a background thread
while the current stage's last epoch trains, so that growth itself only carries the weights over (issue 18).

Where growth's time goes (bench/growing.py, cggan ``fashion32``, 2-core CPU): building the grown networks and
optimizers ~0.4 s, tracing the new train step (Python: every layer, loss and optimizer update of the GAN step)
2.4-3 s, then TensorFlow instantiating the traced graph and running the first step ~1.2 s. The first two need
nothing of the run but its configuration: `prepare_next_stage` does them on a *view* of the model at its next
stage. Only the carry-over (weights and optimizer slots, which must be the values at the switch) and TensorFlow's
instantiation stay at the switch.

The view (`stage_view`) is an instance of the model's class whose attribute dict is a copy of the model's with
the next stage's networks, optimizers, stage and latent size put in: Keras' own ``_make_function`` builds the
train function on it, and its ``train_step`` reads the view, never the model. Shared objects (loss trackers, the
noise seed generator, fade variables of the real-image blend) are the model's own, so the traced graph captures
the very variables the model updates, and nothing is written while tracing: the model trains on undisturbed. At
the switch the view's dict becomes the model's (so a later retrace of that function reads the model).

Nothing random is drawn by the preparation but the new layers' initial values, exactly as synchronous growth
draws them, so a run with growth prepared ahead equals one without it bit for bit
(`tests/test_growing.py::test_growth_prepared_ahead_equals_synchronous_growth`). Used when the model trains on one
replica (the default strategy) in graph mode; otherwise growth stays synchronous.

What it buys depends on spare CPU (bench/growing.py, cggan, 100-step stages, 2-core AMD EPYC VM, 3 interleaved
pairs): the pause at each growth drops from 4.4-4.9 s to 1.5-1.8 s, but the fit's wall clock does not change
(median 86.4 vs 85.5 s): the preparation's ~5 s of Python take their CPU from the steps of the epoch before. Hence
`GrowthSchedule`'s default ``ahead="auto"``: on where a GPU runs the step and leaves the host's CPU free.
"""
from __future__ import annotations

import dataclasses
import time
import warnings

import keras
import tensorflow as tf


@dataclasses.dataclass
class PreparedStage:
    stage: int
    networks: dict  # attribute -> grown network
    optimizers: dict  # optimizer attribute -> fresh optimizer built for the grown network
    train_function: object  # Keras' train function, traced for the model's iterator
    view: object  # the model at `stage`, the ``self`` of `train_function`
    seconds: float  # wall clock of the preparation (in the background)


NETWORK_OPTIMIZERS = (("generator", "g_optimizer"), ("discriminator", "d_optimizer"))


def iterator_step(train_function):
    """The ``tf.function`` that Keras' train function calls with the data iterator (``multi_step_on_iterator``
    of ``keras.src.backend.tensorflow.trainer``), or None."""
    for cell in getattr(train_function, "__closure__", None) or ():
        fn = cell.cell_contents
        if isinstance(fn, tf.types.experimental.PolymorphicFunction) and fn.__name__ == "multi_step_on_iterator":
            return fn
    return None


def traced_iterator_spec(model):
    """The type spec of the iterator the model's current train function was traced for, or None (not traced yet,
    run eagerly, or more than one trace)."""
    fn = iterator_step(getattr(model, "train_function", None))
    traces = fn._list_all_concrete_functions() if fn is not None else []
    if len(traces) != 1:
        return None
    args, _ = traces[0].structured_input_signature
    return args[0] if len(args) == 1 else None


def can_prepare(model) -> bool:
    """Growth can be prepared ahead: the model knows its next networks, runs in graph mode on one replica."""
    strategy = model.distribute_strategy
    return (hasattr(model, "_next_networks") and not model.run_eagerly and strategy.num_replicas_in_sync == 1
            and not isinstance(strategy, (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)))


def stage_view(model, attributes: dict):
    """An instance of the model's class whose attributes are the model's, with `attributes` put over them (set in
    its dict directly: Keras' attribute tracking, shared with the model, is not touched)."""
    view = object.__new__(type(model))
    view.__dict__.update(model.__dict__)
    view.__dict__.update(attributes)
    return view


def prepare_next_stage(model, spec) -> PreparedStage:
    """Build the next stage's networks (the model's ``_next_networks``) and fresh optimizers, and trace its train step
    for an iterator of type `spec`, without writing anything of the model."""
    from trainers.growing import fresh_optimizer

    start = time.perf_counter()
    previous = keras.config.dtype_policy()  # thread-local in Keras: set here as `GrowingMixin.grow` sets it
    keras.config.set_dtype_policy(model.generator.dtype_policy)
    try:
        with model.distribute_strategy.scope():
            networks = model._next_networks()
            optimizers = {opt: fresh_optimizer(getattr(model, opt), networks[net].trainable_variables)
                          for net, opt in NETWORK_OPTIMIZERS if net in networks and getattr(model, opt, None)}
        view = stage_view(model, {**networks, **optimizers, **model._stage_attributes(model.stage + 1)})
        train_function = view._make_function(view.train_step)
        iterator_step(train_function).get_concrete_function(spec)
    finally:
        keras.config.set_dtype_policy(previous)
    return PreparedStage(model.stage + 1, networks, optimizers, train_function, view, time.perf_counter() - start)


class Ahead:
    """One preparation at a time in a background thread (`GrowthSchedule` drives it)."""

    def __init__(self):
        self._thread_pool, self._pending = None, None  # (stage, Future)

    def start(self, model) -> bool:
        """Start preparing the model's next stage; False when it cannot be (see `can_prepare`, and the current train
        function must have been traced once)."""
        spec = traced_iterator_spec(model) if can_prepare(model) else None
        if spec is None:
            return False
        if self._thread_pool is None:
            from concurrent.futures import ThreadPoolExecutor
            self._thread_pool = ThreadPoolExecutor(1, thread_name_prefix="zoo-growth-ahead")
        self._pending = (model.stage + 1, self._thread_pool.submit(prepare_next_stage, model, spec))
        return True

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def take(self, stage):
        """The prepared `stage` (waiting for it if needed), or None: nothing prepared for it, or the preparation
        failed (a warning says why; growth then runs synchronously, as without preparation)."""
        pending, self._pending = self._pending, None
        if pending is None or pending[0] != stage:
            return None
        try:
            return pending[1].result()
        except Exception as err:  # noqa: BLE001  (an optimisation: the run goes on with synchronous growth)
            warnings.warn(f"Preparing stage {stage} ahead failed ({type(err).__name__}: {err}); growing "
                          "synchronously instead.", RuntimeWarning, stacklevel=2)
            return None

    def close(self):
        """Wait for a preparation still running (fit ended before its growth) and drop it."""
        self._pending = None
        if self._thread_pool is not None:
            self._thread_pool.shutdown(wait=True)
            self._thread_pool = None
