"""Running a Predict request on a servable, with TF Serving's checks and errors, for both REST and gRPC.

Inputs are checked against the SignatureDef before anything runs, so every bad request is an INVALID_ARGUMENT
(HTTP 400) whose message names the signature, the input and what was expected: a missing or unknown input, a
dtype the input does not take, a shape that does not fit (``-1`` = any size), and a batch over the limit. The batch
of a request is the largest of the leading dimensions of its inputs and of the ``count``, ``rows`` or ``steps`` it
asks for. With ``--enable_batching`` the limit is ``max_batch_size`` of ``--batching_parameters_file`` (TF
Serving's message: "Task size N is larger than maximum input batch size M").
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from serving.errors import ServingError, invalid

DEFAULT_SIGNATURE = "serving_default"
SIZE_INPUTS = ("count", "rows", "steps")  # scalar inputs that set how many images a signature generates


def input_specs(sigdef) -> dict:
    """``{name: (tf.DType, [dims, -1 = any])}`` of a SignatureDef's inputs."""
    return {k: (tf.as_dtype(v.dtype), [d.size for d in v.tensor_shape.dim]) for k, v in sigdef.inputs.items()}


def describe(specs: dict) -> str:
    return ", ".join(f"{k}: {dtype.name} {shape}" for k, (dtype, shape) in sorted(specs.items()))


def signature(servable, name: str | None):
    name = name or DEFAULT_SIGNATURE
    if name not in servable.signature_defs:
        raise invalid(f'Serving signature name: "{name}" not found in signature def. Signatures of '
                      f"{servable.name} version {servable.version}: {', '.join(sorted(servable.signature_defs))}.")
    return name, servable.signature_defs[name]


def check_inputs(name: str, sigdef, inputs: dict, max_batch_size: int | None = None) -> dict:
    """numpy inputs -> tensors of the signature's dtypes, or INVALID_ARGUMENT saying what was expected."""
    specs = input_specs(sigdef)
    expected = f"Signature {name!r} expects inputs {describe(specs)}."
    missing, unknown = sorted(set(specs) - set(inputs)), sorted(set(inputs) - set(specs))
    if missing or unknown:
        parts = ([f"missing input(s) {', '.join(map(repr, missing))}"] if missing else []) + (
            [f"unknown input(s) {', '.join(map(repr, unknown))}"] if unknown else [])
        raise invalid(f"{'; '.join(parts).capitalize()}. {expected}")
    out, batch = {}, 0
    for key, value in inputs.items():
        dtype, shape = specs[key]
        value = np.asarray(value)
        if value.dtype.kind not in "biuf":
            raise invalid(f"Input {key!r} is not a rectangular array of numbers (got {value.dtype}). {expected}")
        if value.dtype.kind == "f" and not dtype.is_floating:
            raise invalid(f"Input {key!r} has dtype {value.dtype} but must be {dtype.name}. {expected}")
        if len(shape) != value.ndim or any(d not in (-1, s) for d, s in zip(shape, value.shape)):
            raise invalid(f"Input {key!r} has shape {list(value.shape)} but signature {name!r} expects {shape} "
                          f"(-1: any size). {expected}")
        out[key] = tf.constant(value.astype(dtype.as_numpy_dtype, copy=False))
        batch = max(batch, value.shape[0] if value.ndim else int(value) if key in SIZE_INPUTS else 0)
    if max_batch_size and batch > max_batch_size:
        raise invalid(f"Task size {batch} is larger than maximum input batch size {max_batch_size}. Split the "
                      "request into smaller batches.")
    return out


def check_proto_dtypes(name: str, sigdef, protos) -> None:
    """gRPC tensors carry a dtype: it must be the signature's (TF Serving does not cast)."""
    specs = input_specs(sigdef)
    for key, proto in protos.items():
        if key in specs and tf.as_dtype(proto.dtype) != specs[key][0]:
            raise invalid(f"Input {key!r} has dtype {tf.as_dtype(proto.dtype).name} but must be "
                          f"{specs[key][0].name}. Signature {name!r} expects inputs {describe(specs)}.")


def run(servable, signature_name: str | None, inputs: dict, max_batch_size: int | None = None):
    """``(signature name, {output: np.ndarray})`` for numpy `inputs`."""
    name, sigdef = signature(servable, signature_name)
    tensors = check_inputs(name, sigdef, inputs, max_batch_size)
    try:
        result = servable.loaded.signatures[name](**tensors)
    except tf.errors.InvalidArgumentError as err:
        raise invalid(_message(err)) from None
    except tf.errors.OpError as err:
        raise ServingError("INTERNAL", _message(err)) from None
    return name, {k: v.numpy() for k, v in result.items()}


def _message(err) -> str:
    """The op's own words, without TF's "Graph execution error:" header and node listings."""
    lines = [ln.strip() for ln in err.message.splitlines()]
    kept = [ln for ln in lines if ln and not ln.startswith("[[") and "Graph execution error" not in ln
            and not ln.startswith("Detected at node")]
    return " ".join(kept[:3]) or lines[0]
