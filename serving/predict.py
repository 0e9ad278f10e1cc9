"""Running a Predict request on a servable, with TF Serving's checks and errors, for both REST and gRPC.

Inputs are checked against the SignatureDef before anything runs, so every bad request is an INVALID_ARGUMENT
(HTTP 400) whose message names the signature, the input and what was expected: a missing or unknown input, a
dtype the input does not take, a shape that does not fit (``-1`` = any size). The exported signatures bound the
work a request may ask for inside their graphs (`export.signatures.Limits`). With ``--enable_batching`` requests go
through the servable's `serving.batching.Batcher` for their signature (merged with concurrent ones, split back).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from serving.errors import ServingError, invalid

DEFAULT_SIGNATURE = "serving_default"


_SPECS: dict = {}


def input_specs(sigdef) -> dict:
    """``{name: (tf.DType, [dims, -1 = any])}`` of a SignatureDef's inputs (cached: a served SignatureDef does not
    change, and this runs on every request)."""
    key = id(sigdef)
    cached = _SPECS.get(key)
    if cached is None or cached[0] is not sigdef:
        specs = {k: (tf.as_dtype(v.dtype), [d.size for d in v.tensor_shape.dim]) for k, v in sigdef.inputs.items()}
        cached = _SPECS[key] = (sigdef, specs)
    return cached[1]


def describe(specs: dict) -> str:
    return ", ".join(f"{k}: {dtype.name} {shape}" for k, (dtype, shape) in sorted(specs.items()))


def signature(servable, name: str | None):
    name = name or DEFAULT_SIGNATURE
    if name not in servable.signature_defs:
        raise invalid(f'Serving signature name: "{name}" not found in signature def. Signatures of '
                      f"{servable.name} version {servable.version}: {', '.join(sorted(servable.signature_defs))}.")
    return name, servable.signature_defs[name]


METHODS = {"classify": "tensorflow/serving/classify", "regress": "tensorflow/serving/regress",
           "predict": "tensorflow/serving/predict"}


def check_method(servable, signature_name: str | None, method: str) -> None:
    """TF Serving's check that a Classify / Regress request names a signature of that method (zoo signatures are
    all predict ones): INVALID_ARGUMENT naming the signature's method."""
    name, sigdef = signature(servable, signature_name)
    if sigdef.method_name != METHODS[method]:
        kind = {"classify": "classification", "regress": "regression"}.get(method, method)
        raise invalid(f"Expected {kind} signature method_name to be {METHODS[method]}. Was: {sigdef.method_name} "
                      f"(signature {name!r}; zoo SavedModels serve :predict only)")


def check_inputs(name: str, sigdef, inputs: dict, *, allow_unknown: bool = False) -> dict:
    """numpy inputs -> arrays of the signature's dtypes, or INVALID_ARGUMENT saying what was expected.
    `allow_unknown`: drop inputs the signature does not have (REST's columnar form ignores extra keys)."""
    specs = input_specs(sigdef)

    def expected():  # the signature's inputs, for the error messages only
        return f"Signature {name!r} expects inputs {describe(specs)}."

    missing, unknown = sorted(set(specs) - set(inputs)), sorted(set(inputs) - set(specs))
    if allow_unknown:
        inputs, unknown = {k: v for k, v in inputs.items() if k in specs}, []
    if missing or unknown:
        parts = ([f"missing input(s) {', '.join(map(repr, missing))}"] if missing else []) + (
            [f"unknown input(s) {', '.join(map(repr, unknown))}"] if unknown else [])
        raise invalid(f"{'; '.join(parts).capitalize()}. {expected()}")
    out = {}
    for key, value in inputs.items():
        dtype, shape = specs[key]
        value = np.asarray(value)
        if value.dtype.kind not in "biuf":
            raise invalid(f"Input {key!r} is not a rectangular array of numbers (got {value.dtype}). {expected()}")
        if value.dtype.kind == "f" and not dtype.is_floating:
            raise invalid(f"Input {key!r} has dtype {value.dtype} but must be {dtype.name}. {expected()}")
        if len(shape) != value.ndim or any(d not in (-1, s) for d, s in zip(shape, value.shape)):
            raise invalid(f"Input {key!r} has shape {list(value.shape)} but signature {name!r} expects {shape} "
                          f"(-1: any size). {expected()}")
        out[key] = value.astype(dtype.as_numpy_dtype, copy=False)
    return out


def check_proto_dtypes(name: str, sigdef, protos) -> None:
    """gRPC tensors carry a dtype: it must be the signature's (TF Serving does not cast)."""
    specs = input_specs(sigdef)
    for key, proto in protos.items():
        if key in specs and proto.dtype != specs[key][0].as_datatype_enum:
            raise invalid(f"Input {key!r} has dtype {tf.as_dtype(proto.dtype).name} but must be "
                          f"{specs[key][0].name}. Signature {name!r} expects inputs {describe(specs)}.")


def call(servable, name: str, inputs: dict) -> dict:
    """The signature on checked numpy inputs -> ``{output: np.ndarray}``; TF's errors as TF Serving's codes."""
    try:
        result = servable.loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
    except tf.errors.InvalidArgumentError as err:
        raise invalid(_message(err)) from None
    except tf.errors.OpError as err:
        raise ServingError("INTERNAL", _message(err)) from None
    return {k: v.numpy() for k, v in result.items()}


def run(servable, signature_name: str | None, inputs: dict, batching=None, *, allow_unknown: bool = False,
        timeout: float | None = None):
    """``(signature name, {output: np.ndarray})`` for numpy `inputs`; `batching`: the server's
    `serving.batching.Options` when ``--enable_batching`` is on."""
    name, sigdef = signature(servable, signature_name)
    arrays = check_inputs(name, sigdef, inputs, allow_unknown=allow_unknown)
    if batching is None:
        return name, call(servable, name, arrays)
    return name, servable.batcher(name, batching).submit(arrays, timeout)


def _message(err) -> str:
    """The op's own words, without TF's "Graph execution error:" header, node listings and, for a failed
    ``tf.debugging`` check, the condition's tensor dump (its message names the input and the limit)."""
    lines = [ln.strip().replace("<stack traces unavailable>", "").strip() for ln in err.message.splitlines()]
    kept = [ln for ln in lines if ln and not ln.startswith("[[") and "Graph execution error" not in ln
            and not ln.startswith("Detected at node")]
    text = " ".join(kept[:3]) or lines[0]
    if text.startswith("assertion failed: [") and "] [" in text:
        text = text[len("assertion failed: ["):text.index("] [")]
    elif text.startswith("assertion failed: [") and text.endswith("]"):
        text = text[len("assertion failed: ["):-1]
    return text
