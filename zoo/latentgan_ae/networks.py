"""Networks of LatentGAN-AE, tables 2 to 4 (notation: c4-o16-s2-r is a 4x4 conv, 16 outputs, stride 2, ReLU;
u4 bilinear upsampling x4; fc a dense layer).

* Encoder: stride-2 4x4 convs with ReLU (``widths``; the input side halves at each, down to 1x1), then a linear
  fc to the latent. MNIST 32x32: (16, 32, 64, 128, 128) -> fc 64.
* Decoder: the latent as a 1x1 map, ReLU, bilinear x4 (4x4), conv3x3 ``widths[0]`` + BN + ReLU, then per further
  width bilinear x2, conv3x3, BN, ReLU, then bilinear x2, conv3x3 to the image channels, tanh. MNIST: (128, 64, 32).
  (Table 2's last layer says o3 for 1-channel MNIST; we output the data's channels.)
* Generator G: MLP, fc-1000-ReLU x 3, then a linear fc to the autoencoder's latent.
* Discriminator D / Q: MLP body fc-1000, fc-1000, fc-512 with ReLU, then three heads on the shared body: D's
  logit (the sigmoid of table 2 is inside the loss), Q's continuous means (one per U code) and Q's logits per
  categorical code.

Keras' default (Glorot uniform) initialisation throughout: the paper found DCGAN's initialisation hurts.
"""
from __future__ import annotations

import keras
from keras import layers

from zoo.layers import batch_norm


def encoder(image_size, channels, widths, latent_dim, name="encoder"):
    if image_size != 2 ** len(widths):
        raise ValueError(f"image_size={image_size} needs log2({image_size}) = stride-2 encoder convs to reach 1x1 "
                         f"but encoder_widths has {len(widths)}: {tuple(widths)} (table 2: (16, 32, 64, 128, 128)).")
    x = img = keras.Input((image_size, image_size, channels), name="image")
    for i, w in enumerate(widths):
        x = layers.Conv2D(w, 4, strides=2, padding="same", activation="relu", name=f"conv{i}")(x)
    z = layers.Dense(latent_dim, dtype="float32", name="latent")(layers.Flatten()(x))
    return keras.Model(img, z, name=name)


def decoder(latent_dim, image_size, channels, widths, name="decoder"):
    if image_size != 4 * 2 ** len(widths):
        raise ValueError(f"image_size={image_size} needs log2({image_size}/4) decoder widths, got {tuple(widths)} "
                         "(table 2: (128, 64, 32) for 32x32).")
    z = keras.Input((latent_dim,), name="latent")
    x = layers.ReLU()(layers.Reshape((1, 1, latent_dim))(z))
    for i, w in enumerate(widths):
        x = layers.UpSampling2D(4 if i == 0 else 2, interpolation="bilinear")(x)
        x = layers.Conv2D(w, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.ReLU()(batch_norm(f"bn{i}")(x))
    x = layers.UpSampling2D(2, interpolation="bilinear")(x)
    x = layers.Conv2D(channels, 3, padding="same", name="to_image")(x)
    return keras.Model(z, layers.Activation("tanh", dtype="float32")(x), name=name)


def mlp(x, hidden, prefix):
    for i, h in enumerate(hidden):
        x = layers.Dense(h, activation="relu", name=f"{prefix}{i}")(x)
    return x


def latent_generator(input_dim, latent_dim, hidden=(1000, 1000, 1000), name="latent_generator"):
    lc = keras.Input((input_dim,), name="codes")
    out = layers.Dense(latent_dim, dtype="float32", name="latent")(mlp(lc, hidden, "fc"))
    return keras.Model(lc, out, name=name)


def cluster_head(latent_dim, classes, hidden=(1000, 1000, 512), name="cluster_head"):
    """latent -> ``[B, classes]`` logits: Q's body and its head for categorical code 0, with the discriminator's
    layer names (``fc*``, ``q_categorical_0``), so that its weights copy into it by name (``cluster_heads``)."""
    z = keras.Input((latent_dim,), name="latent")
    out = layers.Dense(classes, dtype="float32", name="q_categorical_0")(mlp(z, hidden, "fc"))
    return keras.Model(z, out, name=name)


def latent_discriminator(latent_dim, categorical, continuous, hidden=(1000, 1000, 512), name="discriminator"):
    """latent -> ``{"logit": [B, 1], "continuous": [B, n_cont], "categorical_k": [B, K_k]}``."""
    z = keras.Input((latent_dim,), name="latent")
    h = mlp(z, hidden, "fc")
    out = {"logit": layers.Dense(1, dtype="float32", name="logit")(h),
           "continuous": layers.Dense(continuous, dtype="float32", name="q_continuous")(h)}
    for i, k in enumerate(categorical):
        out[f"categorical_{i}"] = layers.Dense(k, dtype="float32", name=f"q_categorical_{i}")(h)
    return keras.Model(z, out, name=name)
