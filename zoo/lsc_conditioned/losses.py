"""Pure functions of Latent Space Conditioning: Algorithm 1's batch construction and the triple coupled loss.

Triple coupled loss (eqs. 2 to 5). The discriminator sees couples of images [anchor, candidate]:

    x_adv  = [x_real_correct, x_fake]           L_adv  = E[log(1 - D(x_adv))]     (2)
    x_same = [x_real_correct, x_real_correct]   L_same = E[log D(x_same)]         (3)
    x_diff = [x_real_correct, x_real_wrong]     L_diff = E[log(1 - D(x_diff))]    (4)
    min_G max_D  lambda_a L_adv + lambda_s L_same + lambda_d L_diff               (5)

With D = sigmoid(logit): -log D = softplus(-logit), -log(1 - D) = softplus(logit). D minimises the negated
objective; G minimises L_gen = L_adv (Algorithm 2, line 5) in the non-saturating form -log D(x_adv)
(Goodfellow 2014). ``loss="hinge"`` is the hinge analogue (relu(1 + l) for the "false" couples, relu(1 - l) for
the "true" one; G: -l_adv).

The ablation prototypes of table 3 keep some terms: A = L_adv, B = L_adv + L_same, C = L_adv + L_diff,
``full`` = all three.
"""
from __future__ import annotations

import tensorflow as tf

PROTOTYPES = {"full": (1.0, 1.0, 1.0), "A": (1.0, 0.0, 0.0), "B": (1.0, 1.0, 0.0), "C": (1.0, 0.0, 1.0)}
LOSSES = ("non_saturating", "hinge")


def pairwise_l1(f):
    """``D[i, j] = ||f_i - f_j||_1`` for features ``[B, d]`` (Algorithm 1, line 3)."""
    return tf.reduce_sum(tf.abs(f[:, None, :] - f[None, :, :]), axis=-1)


def neighbours(f):
    """Algorithm 1, lines 4-8: for each x_i the index of its nearest and of its farthest neighbour in the batch
    (L1 distance between features, x_i itself excluded). Returns ``(nearest, farthest)``, int32 ``[B]``."""
    d = pairwise_l1(tf.cast(f, tf.float32))
    eye = tf.eye(tf.shape(d)[0], dtype=tf.bool)
    nearest = tf.argmin(tf.where(eye, tf.fill(tf.shape(d), float("inf")), d), axis=1, output_type=tf.int32)
    farthest = tf.argmax(tf.where(eye, tf.fill(tf.shape(d), -1.0), d), axis=1, output_type=tf.int32)
    return nearest, farthest


def couple(anchor, candidate):
    """A couple of images as the discriminator's input: the two stacked on the channel axis."""
    return tf.concat([anchor, tf.cast(candidate, anchor.dtype)], axis=-1)


def triple_coupled_d_loss(adv_logits, same_logits, diff_logits, weights=(1.0, 1.0, 1.0), loss="non_saturating"):
    """The discriminator's loss, -(lambda_a L_adv + lambda_s L_same + lambda_d L_diff). Returns (total, terms):
    ``terms`` are the three unweighted per-couple losses."""
    if loss not in LOSSES:
        raise ValueError(f"Unknown loss {loss!r}. Known: {', '.join(LOSSES)}.")
    false_term = tf.nn.softplus if loss == "non_saturating" else (lambda l: tf.nn.relu(1.0 + l))
    true_term = (lambda l: tf.nn.softplus(-l)) if loss == "non_saturating" else (lambda l: tf.nn.relu(1.0 - l))
    terms = (tf.reduce_mean(false_term(adv_logits)), tf.reduce_mean(true_term(same_logits)),
             tf.reduce_mean(false_term(diff_logits)))
    total = sum(w * t for w, t in zip(weights, terms))
    return total, terms


def triple_coupled_g_loss(adv_logits, loss="non_saturating"):
    """L_gen = L_adv for G: -log D(x_adv) (non-saturating) or -l_adv (hinge)."""
    if loss == "non_saturating":
        return tf.reduce_mean(tf.nn.softplus(-adv_logits))
    return -tf.reduce_mean(adv_logits)


def mode_seeking_loss(fake_a, fake_b, z_a, z_b, eps=1e-5):
    """Mode-seeking term of Mao et al. (2019, eq. 3, in their code's form): two images from the same condition
    and two noises should differ in proportion to the noises,

        L_ms = 1 / (mean|G(z_a, f) - G(z_b, f)| / mean|z_a - z_b| + eps)

    which G minimises (it is the reciprocal of the ratio G maximises): a G that ignores z pays ~1 / eps."""
    ratio = tf.reduce_mean(tf.abs(tf.cast(fake_a, tf.float32) - tf.cast(fake_b, tf.float32))) / tf.reduce_mean(
        tf.abs(z_a - z_b))
    return 1.0 / (ratio + eps)

