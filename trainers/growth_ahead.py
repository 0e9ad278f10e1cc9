"""Growth prepared ahead: the next stage's networks, optimizers and traced train step, made in a background thread
while the current stage trains, and the step instantiated by TensorFlow there too, so that growth itself only
carries the weights over (issue 18).

Where growth's time goes (bench/growing.py, cggan ``fashion32``, 2-core CPU): building the grown networks and
optimizers ~0.4 s, tracing the new train step (Python: every layer, loss and optimizer update of the GAN step)
2.4-3 s, then TensorFlow instantiating the traced graph (graph optimisation, kernel creation) and running the first
step ~1.5 s. None of it needs anything of the run but its configuration: `prepare_next_stage` builds and traces on
a *view* of the model at its next stage, and `warm_up` has TensorFlow instantiate the traced step by running it
once on zero stand-ins of every variable it captures. Only the carry-over (weights and optimizer slots, which must
be the values at the switch) stays at the switch.

The view (`stage_view`) is an instance of the model's class whose attribute dict is a copy of the model's with
the next stage's networks, optimizers, stage and latent size put in: Keras' own ``_make_function`` builds the
train function on it, and its ``train_step`` reads the view, never the model. Shared objects (loss trackers, the
noise seed generator, fade variables of the real-image blend) are the model's own, so the traced graph captures
the very variables the model updates, and nothing is written while tracing: the model trains on undisturbed. At
the switch the view's dict becomes the model's (so a later retrace of that function reads the model).

Nothing random is drawn by the preparation but the new layers' initial values, exactly as synchronous growth
draws them, and the warm-up runs on stand-ins, so a run with growth prepared ahead equals one without it bit for
bit (`tests/test_growing.py::test_growth_prepared_ahead_equals_synchronous_growth`). Used when the model trains on
one replica (the default strategy) in graph mode; otherwise growth stays synchronous.

What it buys depends on spare CPU (bench/growing.py, cggan, 100-step stages, 2-core AMD EPYC VM, 3 interleaved
pairs, bench/results/growing_cggan_100.json): the pause at each growth drops from 4.0-5.4 s to 0.19 s, but the
fit's wall clock does not drop: the preparation's 6-9 s of Python and TensorFlow take their CPU (and Python's
lock) from the steps of the stage before. At ``fashion32``'s own stage lengths in bf16, with the preparing thread
at the lowest priority (`background_priority`), every growth of the four growing CNN models pauses 0.04-0.70 s
against 1.8-5.5 s, and the fits' wall clocks are level within the VM's spread (bench/results/
growing_fashion32_bf16.json, docs/results/growing.md). Hence `GrowthSchedule`'s default ``ahead="auto"``: on where
a GPU runs the step and leaves the host's CPU free.
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time
import warnings

import keras
import tensorflow as tf
from tensorflow.python.eager.polymorphic_function import function_type_utils
from tensorflow.python.ops import handle_data_util


@dataclasses.dataclass
class PreparedStage:
    stage: int
    networks: dict  # attribute -> grown network
    optimizers: dict  # optimizer attribute -> fresh optimizer built for the grown network
    train_function: object  # Keras' train function, traced for the model's iterator
    view: object  # the model at `stage`, the ``self`` of `train_function`
    seconds: float  # wall clock of the preparation (in the background)
    warmed: bool  # TensorFlow instantiated the traced step ahead too (`warm_up`)
    nice: int | None  # the preparing thread's nice value (`background_priority`), None where it cannot be read


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


BACKGROUND_NICE = 19  # the preparation's thread: the steps of the stage that is training come first


def background_priority(nice=BACKGROUND_NICE) -> int | None:
    """Lower the calling thread's CPU priority (Linux schedules threads by their own nice value; elsewhere, or where
    it is refused, nothing changes). The preparation then runs on what the training step leaves of the CPU: its
    Python tracing and TensorFlow's graph work wait while the step's kernels run, instead of taking cores from them.
    Unprivileged, a thread's nice value only goes up, so `Ahead` runs each fit's preparations in a thread of its own.
    Returns the thread's nice value after the change (None where it cannot be read)."""
    if not (hasattr(os, "setpriority") and hasattr(threading, "get_native_id")):
        return None
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, nice)
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        return None


def prepare_next_stage(model, spec) -> PreparedStage:
    """Build the next stage's networks (the model's ``_next_networks``) and fresh optimizers, trace its train step
    for an iterator of type `spec` and have TensorFlow instantiate it (`warm_up`), without writing anything of the
    model."""
    from trainers.growing import fresh_optimizer

    start = time.perf_counter()
    nice = background_priority()
    previous = keras.config.dtype_policy()  # thread-local in Keras: set here as `GrowingMixin.grow` sets it
    keras.config.set_dtype_policy(model.generator.dtype_policy)
    try:
        with model.distribute_strategy.scope():
            networks = model._next_networks()
            optimizers = {opt: fresh_optimizer(getattr(model, opt), networks[net].trainable_variables)
                          for net, opt in NETWORK_OPTIMIZERS if net in networks and getattr(model, opt, None)}
        view = stage_view(model, {**networks, **optimizers, **model._stage_attributes(model.stage + 1)})
        train_function = view._make_function(view.train_step)
        warmed = warm_up(iterator_step(train_function).get_concrete_function(spec), spec)
    finally:
        keras.config.set_dtype_policy(previous)
    return PreparedStage(model.stage + 1, networks, optimizers, train_function, view, time.perf_counter() - start,
                         warmed, nice)


def shadow_captures(concrete):
    """Stand-ins for a concrete function's captured inputs: for every captured variable handle a fresh zero variable of
    its dtype, shape and device, other tensors as they are. Returns (inputs, variables kept alive), or None when a
    captured resource is not a variable of known shape (its stand-in cannot be made)."""
    captured = concrete.captured_inputs
    placeholders = concrete.graph.inputs[len(concrete.graph.inputs) - len(captured):]  # args first, then captures
    inputs, variables = [], []
    for tensor, placeholder in zip(captured, placeholders):
        if tensor.dtype != tf.resource:
            inputs.append(tensor)
            continue
        data = handle_data_util.get_resource_handle_data(placeholder)
        if not data.is_set or len(data.shape_and_type) != 1:
            return None
        shape = tf.TensorShape(data.shape_and_type[0].shape)
        if not shape.is_fully_defined():
            return None
        with tf.device(tensor.device):
            variables.append(tf.Variable(tf.zeros(shape, tf.as_dtype(data.shape_and_type[0].dtype)),
                                         trainable=False))
        inputs.append(variables[-1].handle)
    return inputs, variables


# ops that draw from a state kept in their kernel (not in a variable): one run ahead would move it
STATEFUL_RANDOM = {"RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal", "RandomShuffle",
                   "Multinomial", "RandomGamma", "RandomPoisson", "RandomPoissonV2", "ParameterizedTruncatedNormal"}


def function_ops(concrete) -> set:
    """The op types of a concrete function's graph and of every function it calls."""
    graph = concrete.graph.as_graph_def()
    return {node.op for node in graph.node} | {node.op for f in graph.library.function for node in f.node_def}


def warm_up(concrete, spec) -> bool:
    """Run the traced step once, on a batch of zeros and against zero stand-ins of every variable it captures
    (`shadow_captures`), so that TensorFlow instantiates it now (graph optimisation, kernel creation: ~1.5 s of a
    cggan growth) and not at the switch. The runtime keys an instantiated function by the function and its inputs'
    devices, dtypes and shapes, not by which variables are passed in, so the switch's first call finds it made.
    Nothing of the model is read or written, nor any random state (the step draws its noise statelessly from the
    seed generator's variable, stood in for too). Costs a copy of the captured variables and one step's activations
    (on the device, beside the running stage's) while it runs.

    False where it cannot stand in for everything the step reads or moves (nothing is run then: a captured resource
    that is not a variable, data that is not dense tensors, a stateful random op, whose kernel's own state a run
    would advance), or where TensorFlow refused the call: the switch then instantiates, as without it."""
    element = getattr(spec, "_element_spec", None)
    specs = tf.nest.flatten(element)
    if not specs or not all(isinstance(s, tf.TensorSpec) and s.shape.rank is not None for s in specs):
        return False
    if STATEFUL_RANDOM & function_ops(concrete):
        return False
    found = shadow_captures(concrete)  # last: it allocates the stand-ins
    if found is None:
        return False
    zeros = tf.nest.map_structure(lambda s: tf.zeros([d or 1 for d in s.shape], s.dtype), element)
    iterator = iter(tf.data.Dataset.from_tensors(zeros).repeat())
    try:  # ConcreteFunction.__call__'s own flattening, then its call with the stand-ins for the captures
        bound = function_type_utils.canonicalize_function_inputs((iterator,), {}, concrete.function_type)
        concrete._call_flat(concrete.function_type.unpack_inputs(bound), found[0])
    except (tf.errors.OpError, TypeError, ValueError):
        return False
    return True


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
