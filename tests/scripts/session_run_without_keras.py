"""Run SavedModel signatures the way TF Serving's C++ does: ``tf.compat.v1`` graph mode, the MetaGraph loaded into
a Session (variables restored, ``__saved_model_init_op`` run), each signature run by its tensor names; keras
blocked, no Python function of the model called.

    python session_run_without_keras.py CASES.npz OUT.json

CASES.npz keys are ``CASE|EXPORT_DIR|SIGNATURE|INPUT``; OUT.json is ``{CASE: {"error": null | "<class>: <text>",
"outputs": {output: value as a nested list}}}``.
"""
import collections
import json
import sys

sys.modules["keras"] = None  # any import of keras now fails
sys.modules["tf_keras"] = None

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.compat.v1.disable_eager_execution()
cases_file, out_file = sys.argv[1:3]
cases = collections.defaultdict(dict)
with np.load(cases_file) as x:
    for key in x.files:
        case, path, signature, name = key.split("|")
        cases[(case, path, signature)][name] = x[key]
sessions, result = {}, {}
for (case, path, signature), feed in sorted(cases.items()):
    if path not in sessions:
        graph = tf.Graph()
        sess = tf.compat.v1.Session(graph=graph)
        with graph.as_default():
            meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
        sessions[path] = (sess, meta)
    sess, meta = sessions[path]
    sig = meta.signature_def[signature]
    fetch = {k: v.name for k, v in sig.outputs.items()}
    try:
        got = sess.run(fetch, {sig.inputs[k].name: v for k, v in feed.items()})
        result[case] = {"error": None, "outputs": {k: np.asarray(v).tolist() for k, v in got.items()}}
    except tf.errors.OpError as err:
        result[case] = {"error": f"{type(err).__name__}: {err.message[:2000]}", "outputs": {}}
assert "keras" not in {m.split(".")[0] for m, v in sys.modules.items() if v is not None}
with open(out_file, "w") as f:
    json.dump(result, f)
