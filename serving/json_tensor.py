"""TF Serving's JSON <-> tensor rules for the REST predict API, as ``tensorflow_serving/util/json_tensor.cc`` has them.

Request (``FillPredictRequestFromJson``):
    * the body is one JSON object (NaN / Infinity literals allowed, as rapidjson's ``kParseNanAndInfFlag``);
      ``signature_name``, if given, is a string;
    * exactly one of ``instances`` (row format) and ``inputs`` (columnar) is given;
    * row format: a non-empty list, either plain values (one-input signatures) or objects whose keys are exactly the
      signature's inputs; every instance has the same shape per input; the tensor is ``[n] + instance shape``;
    * columnar: a value (one-input signatures) or an object; each signature input must be there, other keys are
      ignored;
    * a tensor's shape is read from the first element at each level (``GetDenseTensorShape``); every list must
      have that size and every leaf sit at the last level, else INVALID_ARGUMENT (ragged lists are refused);
    * each leaf must be of the input's dtype, with no conversion: a number for floats (not a bool), an integer
      that fits the dtype for ints (``IsInt`` / ``IsInt64`` / ``IsUint`` ...: 4294967297 is not an int32, 1.0 and
      true are not ints), a bool for bools, a string or ``{"b64": ...}`` for strings.
One rule is stricter than json_tensor.cc: a finite number outside float32's range is refused here, where rapidjson's
``GetFloat`` would turn it into inf (the exported signatures then refuse inf as well, so real TF Serving answers
400 too).

Response (``MakeJsonFromTensors``): row format ``{"predictions": [...]}`` (one entry per example; an object per
example when there are several outputs, which must share their 0th dimension), columnar ``{"outputs": ...}``.
Floats are written at their dtype's shortest round-trip precision (float32 ``0.2``, not ``0.20000000298023224``)
with orjson; NaN and infinities as ``NaN`` / ``Infinity`` / ``-Infinity``, as TF Serving writes them.
"""
from __future__ import annotations

import base64
import json

import numpy as np
import orjson
import tensorflow as tf

from serving.errors import invalid

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_DEBUG_BYTES = 256  # kMaxJsonDebugStringBytes
MAX_RANK = 32  # numpy's own limit is 64; no zoo signature takes more than 4


def debug_string(value) -> str:
    """A JSON value as json_tensor.cc's error messages show it: compact, cut at 256 bytes."""
    try:
        text = json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text[:_DEBUG_BYTES]


def _json_type(value) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    return {dict: "Object", list: "Array", str: "String"}.get(type(value), "Number")


def _type_error(value, dtype: tf.DType):
    return invalid(f"JSON Value: {debug_string(value)} Type: {_json_type(value)} is not of expected type: "
                   f"{dtype.name}")


def _leaf_checker(dtype: tf.DType):
    """``check(list of leaves)`` raising json_tensor.cc's TypeError for the first leaf of the wrong kind."""
    if dtype.is_floating:
        limit = _FLOAT32_MAX if dtype in (tf.float32, tf.float16, tf.bfloat16) else float("inf")

        def check(leaves):
            kinds = set(map(type, leaves))
            if kinds <= {float, int}:  # the common case, vectorised: only the range is left to check
                try:
                    values = np.abs(np.array(leaves, np.float64))
                except OverflowError:  # an int beyond float64: the loop below names it
                    values = None
                if values is not None and not (values[np.isfinite(values)] > limit).any():
                    return
            for v in leaves:
                t = type(v)
                if t is float:
                    if abs(v) > limit and v != float("inf") and v != float("-inf"):
                        raise invalid(f"JSON Value: {debug_string(v)} Type: Number is out of range for "
                                      f"{dtype.name} (largest finite: {limit:.8g})")
                elif t is not int:
                    raise _type_error(v, dtype)
                elif abs(v) > limit:
                    raise invalid(f"JSON Value: {v} Type: Number is out of range for {dtype.name}")
        return check
    if dtype.is_integer:
        # int8/int16/int32/uint8 are read with rapidjson's IsInt (int32 range) in json_tensor.cc; the narrow ones
        # are held to their own range here, so nothing wraps when the tensor is built.
        lo, hi = (dtype.min, dtype.max) if dtype in (tf.int64, tf.uint32, tf.uint64) else (
            max(dtype.min, -2 ** 31), min(dtype.max, 2 ** 31 - 1))

        def check(leaves):
            if set(map(type, leaves)) <= {int} and (not leaves or lo <= min(leaves) and max(leaves) <= hi):
                return
            for v in leaves:
                if type(v) is not int or not lo <= v <= hi:
                    raise _type_error(v, dtype)
        return check
    if dtype == tf.bool:
        def check(leaves):
            for v in leaves:
                if type(v) is not bool:
                    raise _type_error(v, dtype)
        return check
    if dtype == tf.string:
        def check(leaves):
            for v in leaves:
                if not (type(v) is str or _is_b64(v)):
                    raise _type_error(v, dtype)
        return check
    raise invalid(f"Conversion of JSON values to type: {dtype.name} is not supported")


def _is_b64(value) -> bool:
    return type(value) is dict and len(value) == 1 and type(value.get("b64")) is str


def dense_shape(value) -> list[int]:
    """json_tensor.cc's ``GetDenseTensorShape``: the size of the first element at each level."""
    shape = []
    while type(value) is list:
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def to_array(value, dtype: tf.DType) -> np.ndarray:
    """A JSON value -> a numpy array of `dtype`, or INVALID_ARGUMENT with json_tensor.cc's message."""
    shape, check = dense_shape(value), _leaf_checker(dtype)
    rank = len(shape)
    if rank > MAX_RANK:
        raise invalid(f"JSON Value: {debug_string(value)} is nested {rank} lists deep: a tensor has at most "
                      f"{MAX_RANK} dimensions")
    level = [value]  # every list at depth d, in order; checked level by level (no recursion)
    for depth in range(rank + 1):
        if depth == rank:
            if any(type(item) is list for item in level):
                raise invalid(f"Encountered list at unexpected level: {rank} expected < {rank}")
            check(level)
            break
        nxt = []
        for item in level:
            if type(item) is not list:
                raise invalid(f"JSON Value: {debug_string(item)} found at incorrect level: {depth + 1} in the JSON "
                              f"DOM. Expected at level: {rank}")
            if len(item) != shape[depth]:
                raise invalid(f"Encountered list at unexpected size: {len(item)} at level: {depth} expected size: "
                              f"{shape[depth]}")
            nxt.extend(item)
        level = nxt
    if dtype == tf.string:
        flat = [base64.b64decode(v["b64"]) if _is_b64(v) else v.encode() for v in level]
        return np.array(flat, dtype=object).reshape(shape)
    return np.array(level, dtype=dtype.as_numpy_dtype).reshape(shape)


def parse(body: bytes):
    """The request body -> its JSON object, or INVALID_ARGUMENT ("JSON Parse error: ...")."""
    if not body:
        raise invalid("JSON Parse error: The document is empty")
    try:  # orjson is ~10x faster; it refuses NaN / Infinity literals and huge integers, which json.loads reads
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    try:
        doc = json.loads(body) if doc is None else doc
    except RecursionError:
        raise invalid("JSON Parse error: the document is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise invalid(f"JSON Parse error: {err}") from None
    if type(doc) is not dict:
        raise invalid(f"JSON Value: {debug_string(doc)} Is not object")
    return doc


def signature_name(doc: dict) -> str | None:
    name = doc.get("signature_name")
    if name is not None and type(name) is not str:
        raise invalid(f"JSON Value: {debug_string(doc)} not formatted correctly. 'signature_name' key must be a "
                      "string value.")
    return name


def predict_inputs(doc: dict, dtypes: dict[str, tf.DType]) -> tuple[dict, str]:
    """``({input: np.ndarray}, "row" | "columnar")`` from a parsed predict request, for a signature whose inputs
    have `dtypes` (json_tensor.cc's ``FillTensorMapFromInstancesList`` / ``FillTensorMapFromInputsMap``)."""
    has_rows, has_cols = "instances" in doc, "inputs" in doc
    if has_rows and has_cols:
        raise invalid(f"JSON Value: {debug_string(doc)} Not formatted correctly expecting only one of 'inputs' or "
                      "'instances' keys to exist ")
    if has_rows:
        return _from_instances(doc, dtypes), "row"
    if has_cols:
        return _from_inputs(doc["inputs"], dtypes), "columnar"
    raise invalid("Missing 'inputs' or 'instances' key")


def _from_instances(doc, dtypes):
    rows = doc["instances"]
    if type(rows) is not list:
        raise invalid(f"JSON Value: {debug_string(doc)} Expecting 'instances' to be an list/array")
    if not rows:
        raise invalid(f"JSON Value: {debug_string(doc)} No values in 'instances' array")
    objects = type(rows[0]) is dict and not _is_b64(rows[0])
    if not objects and len(dtypes) > 1:
        raise invalid("instances is a plain list, but expecting list of objects as multiple input tensors required "
                      "as per tensorinfo_map")
    names = sorted(dtypes)
    columns = {n: [] for n in names} if objects else {names[0]: []}
    shapes = {}
    for i, row in enumerate(rows):
        is_object = type(row) is dict and not _is_b64(row)
        if objects != is_object:
            raise invalid(f"Expecting {'object but got list' if objects else 'value/list but got object'} at item "
                          f"{i} of input list")
        items = row.items() if objects else [(names[0], row)]
        for key, value in items:
            where = f"Failed to process element: {i}{f' key: {key}' if objects else ''} of 'instances' list. Error: "
            if key not in dtypes:
                raise invalid(f"{where}INVALID_ARGUMENT: JSON object: does not have named input: {key}")
            shape = dense_shape(value)
            if shapes.setdefault(key, shape) != shape:
                raise invalid(f"{where}INVALID_ARGUMENT: Expecting shape {_shape(shapes[key])} but got: "
                              f"{_shape(shape)}")
            columns[key].append(value)
        if objects and set(row) != set(names):
            raise invalid(f"Failed to process element: {i} of 'instances' list. JSON object: {debug_string(row)} "
                          f"keys must be equal to: {','.join(names)}")
    return {k: to_array(v, dtypes[k]) for k, v in columns.items()}


def _from_inputs(value, dtypes):
    if type(value) is not dict or _is_b64(value):
        if len(dtypes) > 1:
            raise invalid("inputs is a plain value/list, but expecting an object as multiple input tensors required "
                          "as per tensorinfo_map")
        (name, dtype), = dtypes.items()
        return {name: to_array(value, dtype)}
    out = {}
    for name in sorted(dtypes):  # other keys are ignored, as TF Serving does
        if name not in value:
            raise invalid(f"Missing named input: {name} in 'inputs' object.")
        out[name] = to_array(value[name], dtypes[name])
    return out


def _shape(shape) -> str:
    return "[" + ",".join(map(str, shape)) + "]"


# ------------------------------------------------------------------------------------------------ response
def _jsonable(array: np.ndarray):
    """What orjson writes for one output: numeric arrays natively (shortest round-trip floats), non-finite floats
    and strings by hand."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        return _Raw(array)
    if array.dtype.kind in "OSU":
        return np.vectorize(lambda v: v.decode(errors="replace") if isinstance(v, bytes) else str(v),
                            otypes=[object])(array).tolist()
    return array if array.ndim else array.item()


class _Raw:
    """A float array holding NaN/inf: written through TF Serving's ``NaN`` / ``Infinity`` literals."""

    def __init__(self, array):
        self.array = array


def _literal(v: float) -> str:
    if np.isnan(v):
        return "NaN"
    if np.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return orjson.dumps(v).decode()


def _raw_json(array) -> str:
    if array.ndim == 0:
        return _literal(array.item())
    return "[" + ",".join(_raw_json(a) if a.ndim else _literal(a.item()) for a in array) + "]"


def dumps(payload) -> bytes:
    """orjson with numpy arrays; `_Raw` arrays spliced in as TF Serving's non-finite literals."""
    raws = []

    def default(obj):
        if isinstance(obj, _Raw):
            raws.append(_raw_json(obj.array))
            return f"\x00raw{len(raws) - 1}\x00"
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    out = orjson.dumps(payload, default=default, option=orjson.OPT_SERIALIZE_NUMPY)
    for i, text in enumerate(raws):
        out = out.replace(f'"\\u0000raw{i}\\u0000"'.encode(), text.encode())
    return out


def predict_response(outputs: dict[str, np.ndarray], fmt: str) -> bytes:
    """json_tensor.cc's ``MakeJsonFromTensors`` for a predict response."""
    if fmt == "columnar":
        if len(outputs) == 1:
            return dumps({"outputs": _jsonable(next(iter(outputs.values())))})
        return dumps({"outputs": {k: _jsonable(v) for k, v in outputs.items()}})
    sizes = {k: (v.shape[0] if v.ndim else None) for k, v in outputs.items()}
    first = next(iter(sizes))
    for name, size in sizes.items():
        if size is None or size != sizes[first]:
            raise invalid(f"Tensor name: {name} has inconsistent batch size: {size} expecting: {sizes[first]}; use "
                          'the columnar "inputs" form for this signature.')
    if len(outputs) == 1:
        return dumps({"predictions": _jsonable(outputs[first])})
    n = sizes[first]
    return dumps({"predictions": [{k: _jsonable(v[i]) for k, v in outputs.items()} for i in range(n)]})
