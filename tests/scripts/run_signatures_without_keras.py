"""Load SavedModels with keras blocked (as TF Serving, which runs no Python) and run the given signatures.

    python run_signatures_without_keras.py INPUTS.npz OUT.npz [SHOW.json]

INPUTS.npz keys are ``EXPORT_DIR|SIGNATURE|INPUT``; OUT.npz keys are ``EXPORT_DIR|SIGNATURE|OUTPUT``. With SHOW.json,
also writes ``{EXPORT_DIR: what `saved_model_cli show --dir EXPORT_DIR --all` prints}``, from the function that
command runs (one process for every export instead of one TF start-up each).
"""
import collections
import contextlib
import io
import json
import sys

sys.modules["keras"] = None  # any import of keras now fails
sys.modules["tf_keras"] = None

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

inputs, out = sys.argv[1:3]
requests = collections.defaultdict(dict)
with np.load(inputs) as x:
    for key in x.files:
        path, signature, name = key.split("|")
        requests[(path, signature)][name] = x[key]
loaded, res = {}, {}
for (path, signature), feed in requests.items():
    if path not in loaded:
        loaded[path] = tf.saved_model.load(path)
    result = loaded[path].signatures[signature](**{k: tf.constant(v) for k, v in feed.items()})
    res.update({f"{path}|{signature}|{k}": v.numpy() for k, v in result.items()})
if len(sys.argv) > 3:
    from tensorflow.python.tools import saved_model_cli

    shown = {}
    for path in sorted({p for p, _ in requests}):
        with contextlib.redirect_stdout(io.StringIO()) as text:
            saved_model_cli._show_all(path)
        shown[path] = text.getvalue()
    with open(sys.argv[3], "w") as f:
        json.dump(shown, f)
assert "keras" not in {m.split(".")[0] for m, v in sys.modules.items() if v is not None}
np.savez(out, **res)
