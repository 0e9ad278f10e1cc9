"""The growing GANs' own serving signature: ``walk_block`` seed, rows, block_start, block_end (0-based, end
exclusive), keyframes, steps_between -> per row a reference latent whose block is resampled ``keyframes - 1`` times,
keyframes joined by lerp (the thesis' block random walk, 7.2.1)."""
from __future__ import annotations

import tensorflow as tf

from trainers.steps import SEED_STREAMS
from zoo import walks
from zoo.signatures import (Limits, Signature, check, guarded, image_outputs, render, scalars, size_checks, spec,
                            stream_seed, to_outputs)


def walk_block_signatures(model, limits: Limits) -> dict[str, Signature]:
    """``walk_block`` (thesis 7.2.1): equal to ``zoo.walks.block_walk_latents`` and its rendering."""
    d = model.latent_dim

    @tf.function(input_signature=[spec([], tf.int64, "seed"), spec([], tf.int32, "rows"),
                                  spec([], tf.int32, "block_start"), spec([], tf.int32, "block_end"),
                                  spec([], tf.int32, "keyframes"), spec([], tf.int32, "steps_between")])
    def walk_block(seed, rows, block_start, block_end, keyframes, steps_between):
        """Keyframe k > 0 = the reference with dimensions [block_start, block_end) from a fresh prior draw; frames
        between keyframes a, b are ``a + (b - a) * s / steps_between``, s = 0 .. steps_between - 1."""
        frames = tf.cast(rows, tf.int64) * ((tf.cast(keyframes, tf.int64) - 1) * tf.cast(steps_between, tf.int64) + 1)
        checks = [check(block_end <= d, f"block_end must be <= latent_dim ({d})"),
                  check(block_start < block_end, "block_start must be < block_end"),
                  check(block_start >= 0, "block_start must be >= 0"),
                  check(keyframes > 1, "keyframes must be >= 2"),
                  *size_checks(limits, "rows", rows), *size_checks(limits, "steps_between", steps_between),
                  *size_checks(limits, "keyframes", keyframes),
                  *size_checks(limits, "images asked for (rows x ((keyframes - 1) x steps_between + 1))", frames)]
        rows, keyframes, steps_between = guarded(checks, rows, keyframes, steps_between)
        refs = model.sample_latent(rows, stream_seed(seed, SEED_STREAMS["walk"]))
        next_seed = stream_seed(tf.cast(seed, tf.int32) + 1, SEED_STREAMS["walk"])
        fresh = tf.reshape(model.sample_latent(rows * (keyframes - 1), next_seed),
                           [rows, keyframes - 1, d])
        dims = tf.range(d)
        in_block = tf.logical_and(dims >= block_start, dims < block_end)[None, None]
        keys = tf.concat([refs[:, None], tf.where(in_block, fresh, refs[:, None])], axis=1)  # [rows, K, D]
        t = (tf.cast(tf.range(steps_between), tf.float32) / tf.cast(steps_between, tf.float32))[None, None, :, None]
        a, b = keys[:, :-1, None], keys[:, 1:, None]
        path = tf.reshape(a + (b - a) * t, [rows, -1, d])
        latents = tf.concat([path, keys[:, -1:]], axis=1)
        return {"latents": latents, **to_outputs(render(model, latents))}

    def example(b, rng):
        return scalars(seed=0, rows=b, block_start=0, block_end=min(8, d), keyframes=3, steps_between=2)

    def reference(m, x):
        latents = walks.block_walk_latents(m, (int(x["block_start"]), int(x["block_end"])), int(x["rows"]),
                                           int(x["keyframes"]), int(x["steps_between"]), int(x["seed"]))
        return {"latents": latents, **image_outputs(walks.render(m, latents))}

    return {"walk_block": Signature(walk_block, example, reference)}
