"""The feature extractor E of Latent Space Conditioning (section 3.1, 4.1).

An AlexNet-style network (Krizhevsky et al. 2012) sized for 32x32 inputs: conv5x5 64, max-pool 3/2, conv5x5 192,
max-pool 3/2, conv3x3 384, conv3x3 256, conv3x3 256, each conv with ReLU (``width`` scales the channels;
64 is AlexNet's). As in Caron et al. (2018), whom the paper follows, f is read from an intermediate conv layer
(``feature_layer``), not from logits: the layer's map is average-pooled to ``pool x pool`` cells and flattened.

``extractor="untrained"`` (the paper's MNIST setting): the network keeps its random initialisation (fixed by
``extractor_seed``) and is never trained. ``extractor="rotation"``: it is first trained to predict which of four
rotations (0, 90, 180, 270 degrees) was applied to an image (Gidaris et al. 2018, the self-supervised method the
paper cites for CIFAR-10 and CelebA), with a linear head on the pooled features; labels are never used.

``features="per_sample"`` (the paper setting): f is standardised per sample (zero mean, unit standard deviation
over its dimensions), so that a random network's arbitrary scale neither swamps nor vanishes beside the N(0, I)
noise it is concatenated with; Algorithm 1's L1 distances are taken between these standardised features. The
working setting whitens f over the training set instead (`zoo.lsc_conditioned.bank`).
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

EXTRACTORS = ("untrained", "rotation")
LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5")


def alexnet_extractor(image_size, channels, width=64, feature_layer="conv3", pool=1, seed=0, name="extractor"):
    """images ``[B, H, W, C]`` in [-1, 1] -> raw features ``[B, pool * pool * channels_of(feature_layer)]``."""
    if feature_layer not in LAYERS:
        raise ValueError(f"Unknown feature_layer {feature_layer!r}. Known: {', '.join(LAYERS)}.")
    init = lambda i: keras.initializers.HeUniform(seed=seed * 10 + i)  # noqa: E731
    spec = [(width, 5, True), (3 * width, 5, True), (6 * width, 3, False), (4 * width, 3, False), (4 * width, 3, False)]
    img = x = keras.Input((image_size, image_size, channels), name="image")
    for i, (filters, k, pooled) in enumerate(spec):
        x = layers.Conv2D(filters, k, padding="same", activation="relu", kernel_initializer=init(i),
                          name=f"conv{i + 1}")(x)
        if f"conv{i + 1}" == feature_layer:
            break
        if pooled:
            x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    side = x.shape[1]
    if side % pool:
        raise ValueError(f"feature pool={pool} must divide the {feature_layer} map side {side}.")
    x = layers.AveragePooling2D(side // pool)(x)
    return keras.Model(img, layers.Flatten()(x), name=name)


def standardise(f):
    """Per-sample zero mean, unit standard deviation over the feature dimensions."""
    f = tf.cast(f, tf.float32)
    mean, var = tf.nn.moments(f, axes=[-1], keepdims=True)
    return (f - mean) * tf.math.rsqrt(var + 1e-6)


def rotation_batch(x):
    """Four copies of each image, rotated 0/90/180/270 degrees, and the rotation index (the pretext labels)."""
    rotated = [tf.image.rot90(x, k) for k in range(4)]
    labels = [tf.fill([tf.shape(x)[0]], k) for k in range(4)]
    return tf.concat(rotated, 0), tf.concat(labels, 0)


def rotation_network(extractor):
    """E followed by a linear 4-way rotation head; trains E's weights."""
    logits = layers.Dense(4, name="rotation_logits")(extractor.output)
    return keras.Model(extractor.input, logits, name="rotation_net")
