"""Pure loss functions of LatentGAN-AE.

Equation 3: min_{G,Q} max_D  V(D, G) - lambda * L_I(G, Q), with InfoGAN's variational lower bound

    L_I(G, Q) = E_{c ~ P(c), x ~ G(p, c)} [log Q(c | x)] + H(c)  <=  I(c; G(p, c)).

Per code: a categorical c ~ Cat(K) (uniform, H = log K) has log Q(c|x) = -CE(one_hot(c), Q logits); a
continuous c ~ U(-1, 1) has Q(c|x) = N(mu_Q(x), 1) (InfoGAN's factored Gaussian with the standard deviation
fixed to 1), log Q = -(c - mu)^2 / 2 - log(2 pi) / 2. ``lambda_disc`` weighs the categorical terms,
``lambda_cont`` the continuous ones (paper: 0.1 and 1 for MNIST).
"""
from __future__ import annotations

import math

import tensorflow as tf


def info_terms(q_out, categorical_onehots, continuous):
    """``(categorical NLL, continuous NLL)``: batch means of sum_k CE(c_k, Q_k) and sum_j (c_j - mu_j)^2 / 2
    (constants dropped)."""
    cat = tf.constant(0.0)
    for i, onehot in enumerate(categorical_onehots):
        cat += tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(onehot, q_out[f"categorical_{i}"]))
    cont = tf.constant(0.0)
    if continuous.shape[-1]:
        cont = tf.reduce_mean(tf.reduce_sum(0.5 * tf.square(continuous - q_out["continuous"]), axis=-1))
    return cat, cont


def info_loss(q_out, categorical_onehots, continuous, lambda_disc, lambda_cont):
    """``-lambda L_I`` up to the constant H(c): lambda_disc * categorical NLL + lambda_cont * continuous NLL."""
    cat, cont = info_terms(q_out, categorical_onehots, continuous)
    return lambda_disc * cat + lambda_cont * cont, cat, cont


def mutual_information_bound(cat_nll, cont_nll, categorical, continuous):
    """The lower bound L_I in nats from the NLL terms: sum_k log K_k + n_cont * H(U(-1, 1)) - NLL, where
    H(U(-1, 1)) = log 2 and the Gaussian NLL gets back its constant n_cont * log(2 pi) / 2."""
    entropy = sum(math.log(k) for k in categorical) + continuous * math.log(2.0)
    return entropy - cat_nll - cont_nll - continuous * 0.5 * math.log(2 * math.pi)


def noisy_targets(real_shape, seed, smoothing, flip, one_sided=False):
    """Noisy labels for D (the paper's "noisy labels"; the GAN-hacks recipe): real targets ~ U(1 - s, 1), fake
    targets ~ U(0, s) (0 when `one_sided`: Salimans et al. 2016 smooth the real side only), and each target
    flipped (t -> 1 - t) with probability ``flip``. Returns (real, fake)."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), 4)
    real = 1.0 - smoothing * tf.random.stateless_uniform(real_shape, seeds[0])
    fake = (0.0 if one_sided else smoothing) * tf.random.stateless_uniform(real_shape, seeds[1])
    flip_r = tf.random.stateless_uniform(real_shape, seeds[2]) < flip
    flip_f = tf.random.stateless_uniform(real_shape, seeds[3]) < flip
    return tf.where(flip_r, 1.0 - real, real), tf.where(flip_f, 1.0 - fake, fake)


def d_loss(real_logits, fake_logits, real_targets, fake_targets):
    """-V(D, G) of eq. 2 with targets: mean BCE(real targets, D(Enc(x))) + mean BCE(fake targets, D(G(lc)))."""
    bce = tf.nn.sigmoid_cross_entropy_with_logits
    return tf.reduce_mean(bce(real_targets, real_logits)) + tf.reduce_mean(bce(fake_targets, fake_logits))


def g_loss(fake_logits):
    """Non-saturating generator loss -log D(G(lc)) (Goodfellow 2014's practical form of eq. 2's G term)."""
    return tf.reduce_mean(tf.nn.softplus(-fake_logits))


def entropy(p, axis=-1):
    """H(p) = -sum_k p_k log p_k in nats (0 log 0 = 0)."""
    return -tf.reduce_sum(tf.math.multiply_no_nan(tf.math.log(p), p), axis=axis)


def cluster_loss(logits, augmented_logits, marginal_weight=4.0):
    """The clustering term on real latents (IMSAT, Hu et al. 2017, eq. 8 with an augmentation as the perturbation;
    a deviation from LatentGAN-AE, which leaves the latent's class structure to chance):

        L_clu = E_x CE(sg[Q(c | z(x))], Q(c | z(aug x)))  +  H(Y | X)  -  mu * H(Y)

    the first term asks Q to give an image and its augmented copy one class (self-augmentation), H(Y | X) =
    E_x H(Q(c | z(x))) to be confident, H(Y) = H(E_x Q(c | z(x))) (the batch's marginal) to use every class
    (mu = ``marginal_weight``, IMSAT's 4). Returns ``(loss, H(Y | X), H(Y))``.
    """
    p = tf.nn.softmax(logits)
    consistency = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(tf.stop_gradient(p), augmented_logits))
    conditional, marginal = tf.reduce_mean(entropy(p)), entropy(tf.reduce_mean(p, axis=0))
    return consistency + conditional - marginal_weight * marginal, conditional, marginal


def _kl_from_logits(p_logits, q_logits):
    """Batch mean of KL(softmax(p) || softmax(q)), p held fixed (no gradient)."""
    log_p = tf.stop_gradient(tf.nn.log_softmax(p_logits))
    return tf.reduce_mean(tf.reduce_sum(tf.exp(log_p) * (log_p - tf.nn.log_softmax(q_logits)), axis=-1))


def vat_loss(logits_fn, u, direction, epsilon, xi=0.1, clean_logits=None):
    """Virtual adversarial training (Miyato et al. 2018, eqs. 5-7; IMSAT's R_vat), here on Q's input latent u:

        R_vat = E_u KL(Q(. | u) || Q(. | u + r_adv)),   r_adv = epsilon * g / ||g||,
        g = grad_r KL(Q(. | u) || Q(. | u + r)) at r = xi * d,  d = `direction` / ||direction|| (one power step)

    the perturbation of norm `epsilon` that changes Q's answer most: penalising it makes Q locally smooth around
    each real latent, so that a cluster cannot cut through a dense region. `logits_fn` maps ``[B, dim]`` latents to
    logits ``[B, K]``; `direction` is a ``[B, dim]`` random draw; `clean_logits`, when the caller has them, are
    ``logits_fn(u)`` (not recomputed)."""
    u = tf.stop_gradient(tf.cast(u, tf.float32))
    clean = logits_fn(u) if clean_logits is None else clean_logits
    d = direction / (tf.norm(direction, axis=-1, keepdims=True) + 1e-12)
    with tf.GradientTape() as tape:
        tape.watch(d)
        kl = _kl_from_logits(clean, logits_fn(u + xi * d))
    g = tape.gradient(kl, d)
    g = tf.zeros_like(d) if g is None else tf.stop_gradient(g)  # None: Q ignores its input
    r_adv = epsilon * g / (tf.norm(g, axis=-1, keepdims=True) + 1e-12)
    return _kl_from_logits(clean, logits_fn(u + r_adv))


def code_diversity(images, reference):
    """Within-code diversity: the mean per-pixel standard deviation over `images` (samples of one code), divided by
    the same over `reference` (real images of every class). About 1 when a code's samples vary as much as the
    data; near 0 when the generator collapsed within the code."""
    def spread(x):
        return tf.reduce_mean(tf.math.reduce_std(tf.cast(x, tf.float32), axis=0))

    return spread(images) / tf.maximum(spread(reference), 1e-8)
