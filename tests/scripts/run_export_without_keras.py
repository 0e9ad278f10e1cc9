"""Load a SavedModel with keras blocked (as TF Serving, which runs no Python) and run its signatures.

    python run_export_without_keras.py EXPORT_DIR INPUTS.npz OUT.npz
"""
import sys

sys.modules["keras"] = None  # any import of keras now fails
sys.modules["tf_keras"] = None

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

export_dir, inputs, out = sys.argv[1:4]
loaded = tf.saved_model.load(export_dir)
x = np.load(inputs)
res = {}
default = loaded.signatures["serving_default"](latent=tf.constant(x["latent"]))
res.update({f"default_{k}": v.numpy() for k, v in default.items()})
seeded = loaded.signatures["generate_from_seed"](seed=tf.constant(int(x["seed"]), tf.int64),
                                                 count=tf.constant(int(x["count"]), tf.int32))
res.update({f"seed_{k}": v.numpy() for k, v in seeded.items()})
assert "keras" not in {m.split(".")[0] for m, v in sys.modules.items() if v is not None}
np.savez(out, **res)
