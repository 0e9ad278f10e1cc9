"""Serving signatures of ``latentgan_ae``: ``generate_from_codes`` categorical int32 ``[B, n_codes]``, continuous
``[B, n_cont]``, noise ``[B, noise_dim]`` -> Dec(G(lc)), a code outside 0..K-1 an INVALID_ARGUMENT naming K;
``cluster`` images -> ``clusters`` int64 ``[B, n_codes]`` (argmax Q(c|std(Enc(x)))) and ``probabilities_k`` per code."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo.signatures import (Limits, Signature, batch_checks, check, checked_images, guarded, image_outputs, image_spec,
                            images_example, normal, spec, to_outputs, value_checks)


def code_signatures(model, limits: Limits) -> dict[str, Signature]:
    """``generate_from_codes`` and ``cluster``."""
    codes = model.codes
    n_cat = len(codes.categorical)

    @tf.function(input_signature=[spec([None, n_cat], tf.int32, "categorical"),
                                  spec([None, codes.continuous], tf.float32, "continuous"),
                                  spec([None, codes.noise_dim], tf.float32, "noise")])
    def generate_from_codes(categorical, continuous, noise):
        checks = batch_checks(limits, categorical=categorical) + value_checks(limits, continuous=continuous,
                                                                                 noise=noise)
        for i, (c, k) in enumerate(zip(tf.unstack(categorical, num=n_cat, axis=1), codes.categorical)):
            checks.append(check(tf.reduce_all((c >= 0) & (c < k)),
                                 f"categorical code {i} must be in 0..{k - 1} (K={k})"))
        categorical, continuous, noise = guarded(checks, categorical, continuous, noise)
        columns = tf.unstack(categorical, num=n_cat, axis=1)
        return to_outputs(model.generator(codes.assemble(noise, columns, continuous), training=False))

    @tf.function(input_signature=[image_spec(model)])
    def cluster(images):
        images = checked_images(limits, images)
        q = model.q_outputs(images)
        logits = [q[f"categorical_{i}"] for i in range(n_cat)]
        out = {"clusters": tf.stack([tf.argmax(v, axis=-1) for v in logits], axis=1)}
        out.update({f"probabilities_{i}": tf.nn.softmax(v) for i, v in enumerate(logits)})
        return out

    def codes_example(b, rng):
        return {"categorical": np.stack([rng.integers(0, k, b) for k in codes.categorical], 1).astype(np.int32),
                "continuous": rng.uniform(-1, 1, (b, codes.continuous)).astype(np.float32),
                "noise": normal(rng, b, codes.noise_dim)}

    def codes_reference(m, x):
        return image_outputs(m.generate_from_codes(list(x["categorical"].T), x["continuous"], x["noise"]))

    def cluster_reference(m, x):
        n = len(m.codes.categorical)
        out = {"clusters": np.stack([m.cluster(x["images"], code=i) for i in range(n)], 1)}
        out.update({f"probabilities_{i}": tf.nn.softmax(m.cluster_logits(x["images"], code=i)).numpy()
                    for i in range(n)})
        return out

    return {"generate_from_codes": Signature(generate_from_codes, codes_example, codes_reference),
            "cluster": Signature(cluster, images_example(model), cluster_reference)}
