"""Request batching, as TF Serving's ``--enable_batching`` does it (``batching/batching_session.cc`` and the basic
batch scheduler): concurrent requests to the same signature of the same servable are merged along the 0th
dimension, run once, and the outputs split back.

Parameters come from ``--batching_parameters_file``, a ``BatchingParameters`` text proto
(``servables/tensorflow/session_bundle_config.proto``), parsed here with protobuf's own text format parser. The
message is declared below with the real proto's field numbers and wrapper types, because tensorflow-serving-api
does not ship it. TF Serving's defaults apply to fields left out (max_batch_size 1000, batch_timeout_micros 0,
max_enqueued_batches 10, num_batch_threads = the machine's cores).

What the scheduler does, as TF Serving's:
    * a task's size is the 0th dimension of its inputs; every input needs one, and all must agree ("Batching Run()
      input tensors must have at least one dimension" / "... equal 0th-dimension size"). So a signature with a
      scalar input (generate_from_seed, interpolate, walk_block, generate_like) is refused while batching is on,
      in TF Serving and here alike;
    * a task larger than max_batch_size is refused ("Task size N is larger than maximum input batch size M");
    * a batch closes when the next task would not fit, or ``batch_timeout_micros`` after its first task;
    * more than ``max_enqueued_batches`` waiting batches: UNAVAILABLE ("The batch scheduling queue to which this
      task was submitted is full");
    * with ``allowed_batch_sizes``, a batch is padded to the next allowed size with copies of the first row of its
      last task (batching_session.cc's padding), and the padding's outputs are dropped.
``pad_variable_length_inputs`` and ``enable_large_batch_splitting`` are not implemented (refused at start-up).
"""
from __future__ import annotations

import collections
import concurrent.futures
import os
import threading
import time

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format, wrappers_pb2

from serving.errors import ServingError, invalid

DEFAULTS = {"max_batch_size": 1000, "batch_timeout_micros": 0, "max_enqueued_batches": 10,
            "num_batch_threads": os.cpu_count() or 1}


def _batching_parameters_class():
    """``tensorflow.serving.BatchingParameters`` built from its field list (session_bundle_config.proto)."""
    fdp = descriptor_pb2.FileDescriptorProto(name="zoo_serving/batching_parameters.proto",
                                             package="tensorflow.serving",
                                             dependency=["google/protobuf/wrappers.proto"], syntax="proto3")
    msg = fdp.message_type.add(name="BatchingParameters")
    f = descriptor_pb2.FieldDescriptorProto
    for name, number, wrapper in (("max_batch_size", 1, "Int64Value"), ("batch_timeout_micros", 2, "Int64Value"),
                                  ("max_enqueued_batches", 3, "Int64Value"), ("num_batch_threads", 4, "Int64Value"),
                                  ("thread_pool_name", 5, "StringValue"),
                                  ("enable_large_batch_splitting", 8, "BoolValue"),
                                  ("max_execution_batch_size", 9, "Int64Value")):
        msg.field.add(name=name, number=number, type=f.TYPE_MESSAGE, label=f.LABEL_OPTIONAL,
                      type_name=f".google.protobuf.{wrapper}")
    msg.field.add(name="allowed_batch_sizes", number=6, type=f.TYPE_INT64, label=f.LABEL_REPEATED)
    msg.field.add(name="pad_variable_length_inputs", number=7, type=f.TYPE_BOOL, label=f.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tensorflow.serving.BatchingParameters"))


BatchingParameters = _batching_parameters_class()


class Options:
    """The scheduler's options from a ``BatchingParameters`` message (TF Serving's defaults for unset fields)."""

    def __init__(self, params=None):
        params = params if params is not None else BatchingParameters()
        for name, default in DEFAULTS.items():
            setattr(self, name, int(getattr(params, name).value) if params.HasField(name) else default)
        self.allowed_batch_sizes = [int(s) for s in params.allowed_batch_sizes]
        if params.pad_variable_length_inputs or params.enable_large_batch_splitting.value:
            raise ValueError("pad_variable_length_inputs and enable_large_batch_splitting are not implemented by "
                             "the development server; leave them out of --batching_parameters_file.")
        if self.max_batch_size < 1 or self.num_batch_threads < 1 or self.max_enqueued_batches < 1 or \
                self.batch_timeout_micros < 0:
            raise ValueError("BatchingParameters: max_batch_size, num_batch_threads and max_enqueued_batches must be "
                             ">= 1 and batch_timeout_micros >= 0.")
        sizes = self.allowed_batch_sizes
        if sizes and (sizes != sorted(set(sizes)) or sizes[-1] != self.max_batch_size):
            raise ValueError(f"allowed_batch_sizes {sizes} must increase and end with max_batch_size "
                             f"({self.max_batch_size}), as TF Serving requires.")

    def padded_size(self, size: int) -> int:
        return next((s for s in self.allowed_batch_sizes if s >= size), size)


def read_options(path=None) -> Options:
    """``--batching_parameters_file`` -> :class:`Options`; a parse error names the file and the line."""
    if path is None:
        return Options()
    with open(path) as f:
        text = f.read()
    try:
        params = text_format.Parse(text, BatchingParameters())
    except text_format.ParseError as err:
        raise ValueError(f"--batching_parameters_file {path} is not a valid BatchingParameters text proto: {err}") \
            from None
    return Options(params)


def task_size(inputs: dict) -> int:
    """The 0th dimension shared by every input (batching_util.h's ``ComputeTensorBatchSize``)."""
    if not inputs:
        raise invalid("Batching Run() must have at least one input tensor")
    sizes = set()
    for value in inputs.values():
        if np.ndim(value) == 0:
            raise invalid("Batching Run() input tensors must have at least one dimension (batching is on: "
                          "signatures with scalar inputs cannot be batched, in TF Serving as here; serve them "
                          "from a server without --enable_batching)")
        sizes.add(np.shape(value)[0])
    if len(sizes) > 1:
        raise invalid("Batching Run() input tensors must have equal 0th-dimension size")
    return sizes.pop()


class _Task:
    __slots__ = ("inputs", "size", "future", "enqueued")

    def __init__(self, inputs, size):
        self.inputs, self.size = inputs, size
        self.future, self.enqueued = concurrent.futures.Future(), time.monotonic()


class Batcher:
    """The batch queue of one signature of one servable: ``submit(inputs)`` blocks until its share of a batch is
    back. `run` maps ``{input: np.ndarray}`` (batched) to ``{output: np.ndarray}``."""

    def __init__(self, run, options: Options, name: str = "batch"):
        self.run, self.options = run, options
        self._queue: collections.deque[_Task] = collections.deque()
        self._cv = threading.Condition()
        self._stopped = False
        self.batches = 0  # batches run so far (what the tests and the bench read)
        self._threads = [threading.Thread(target=self._loop, daemon=True, name=f"{name}-{i}")
                         for i in range(options.num_batch_threads)]
        for thread in self._threads:
            thread.start()

    def submit(self, inputs: dict, timeout: float | None = None) -> dict:
        """Enqueue and wait for this task's outputs (DEADLINE_EXCEEDED after `timeout` seconds)."""
        future = self.enqueue(inputs)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ServingError("DEADLINE_EXCEEDED", "Deadline exceeded while the request waited for its batch") \
                from None

    def enqueue(self, inputs: dict) -> concurrent.futures.Future:
        """Queue a task; its future gets ``{output: its rows}`` or the batch's error (asyncio callers await it
        without holding a thread)."""
        size = task_size(inputs)
        if size > self.options.max_batch_size:
            raise invalid(f"Task size {size} is larger than maximum input batch size {self.options.max_batch_size}. "
                          "Split the request into smaller batches.")
        task = _Task(inputs, size)
        with self._cv:
            queued = sum(t.size for t in self._queue)
            if (queued + size) / self.options.max_batch_size > self.options.max_enqueued_batches:
                raise ServingError("UNAVAILABLE", "The batch scheduling queue to which this task was submitted is "
                                   "full")
            self._queue.append(task)
            self._cv.notify()
        return task.future

    def stop(self):
        with self._cv:
            self._stopped = True
            self._cv.notify_all()

    # ------------------------------------------------------------------ scheduler threads
    def _take_batch(self) -> list[_Task] | None:
        """Wait for a first task, then for more until the batch is full or its first task has waited
        ``batch_timeout_micros``."""
        limit, timeout = self.options.max_batch_size, self.options.batch_timeout_micros / 1e6
        with self._cv:
            while not self._queue and not self._stopped:
                self._cv.wait()
            if self._stopped:
                return None
            deadline = self._queue[0].enqueued + timeout
            while True:
                total, n = 0, 0
                for task in self._queue:
                    if total + task.size > limit:
                        break
                    total, n = total + task.size, n + 1
                full = n < len(self._queue) or total == limit
                left = deadline - time.monotonic()
                if full or left <= 0 or self._stopped:
                    return [self._queue.popleft() for _ in range(n)]
                self._cv.wait(left)

    def _loop(self):
        while (batch := self._take_batch()) is not None:
            batch = [t for t in batch if t.future.set_running_or_notify_cancel()]
            if batch:
                self._process(batch)

    def _process(self, batch: list[_Task]):
        sizes = [t.size for t in batch]
        total = sum(sizes)
        pad = self.options.padded_size(total) - total
        try:
            merged = {}
            for key in batch[0].inputs:
                parts = [np.asarray(t.inputs[key]) for t in batch]
                if any(p.shape[1:] != parts[0].shape[1:] for p in parts):
                    raise ServingError("FAILED_PRECONDITION", f"Tensors with name '{key}' from different tasks have "
                                       "different shapes and padding is turned off. Set pad_variable_length_inputs "
                                       "to true, or ensure that all tensors with the same name have equal "
                                       "dimensions starting with the first dim.")
                if pad:
                    parts.append(np.repeat(parts[-1][:1], pad, axis=0))
                merged[key] = np.concatenate(parts, axis=0)
            outputs = self.run(merged)
            self.batches += 1
            bounds = np.cumsum([0] + sizes)
            for name, value in outputs.items():
                if np.ndim(value) == 0 or np.shape(value)[0] != total + pad:
                    raise ServingError("FAILED_PRECONDITION", "Batched output tensor's 0th dimension does not equal "
                                       f"the sum of the 0th dimension sizes of the input tensors ({name})")
            for i, task in enumerate(batch):
                task.future.set_result({k: v[bounds[i]:bounds[i + 1]] for k, v in outputs.items()})
        except Exception as err:  # every task of the batch gets the batch's error
            for task in batch:
                task.future.set_exception(err)
