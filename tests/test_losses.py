"""Numeric unit tests of every adversarial loss and of the per-sample gradient penalty."""
import numpy as np
import pytest
import tensorflow as tf

from trainers import losses

REAL = np.array([[2.0], [-1.0], [0.5]], np.float32)
FAKE = np.array([[-3.0], [0.0], [1.5]], np.float32)


def softplus(x):
    return np.log1p(np.exp(x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_non_saturating_matches_binary_cross_entropy():
    d = losses.d_non_saturating(REAL, FAKE).numpy()
    expected = -np.mean(np.log(sigmoid(REAL))) - np.mean(np.log(1 - sigmoid(FAKE)))
    np.testing.assert_allclose(d, expected, rtol=1e-6)
    np.testing.assert_allclose(losses.g_non_saturating(FAKE).numpy(), -np.mean(np.log(sigmoid(FAKE))), rtol=1e-6)


def test_minimax_generator_is_log_one_minus_d():
    np.testing.assert_allclose(losses.g_minimax(FAKE).numpy(), np.mean(np.log(1 - sigmoid(FAKE))), rtol=1e-6)
    assert losses.get_loss("minimax").d is losses.d_non_saturating


def test_least_squares():
    np.testing.assert_allclose(losses.d_least_squares(REAL, FAKE).numpy(),
                               0.5 * np.mean((REAL - 1) ** 2) + 0.5 * np.mean(FAKE ** 2), rtol=1e-6)
    np.testing.assert_allclose(losses.g_least_squares(FAKE).numpy(), 0.5 * np.mean((FAKE - 1) ** 2), rtol=1e-6)


def test_wasserstein():
    np.testing.assert_allclose(losses.d_wasserstein(REAL, FAKE).numpy(), FAKE.mean() - REAL.mean(), rtol=1e-6)
    np.testing.assert_allclose(losses.g_wasserstein(FAKE).numpy(), -FAKE.mean(), rtol=1e-6)


def test_hinge():
    expected = np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE))
    np.testing.assert_allclose(losses.d_hinge(REAL, FAKE).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(losses.g_hinge(FAKE).numpy(), -FAKE.mean(), rtol=1e-6)


def test_softplus_form_is_stable_for_large_logits():
    big = np.array([[80.0]], np.float32)
    assert np.isfinite(losses.d_non_saturating(-big, big).numpy())
    np.testing.assert_allclose(losses.d_non_saturating(-big, big).numpy(), 160.0, rtol=1e-5)


def test_gradient_penalty_is_per_sample():
    # critic(x) = sum(x^2) per sample: grad at x_hat_i is 2 x_hat_i, so norm_i = 2 ||x_hat_i||.
    rng = np.random.default_rng(0)
    real = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)
    fake = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)
    eps = np.array([0.0, 0.25, 0.5, 1.0], np.float32)
    critic = lambda x: tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]
    gp = losses.gradient_penalty(critic, real, fake, eps).numpy()
    x_hat = eps[:, None, None, None] * real + (1 - eps[:, None, None, None]) * fake
    norms = 2 * np.sqrt((x_hat ** 2).reshape(4, -1).sum(1))
    np.testing.assert_allclose(gp, np.mean((norms - 1) ** 2), rtol=1e-5)
    batch_norm = 2 * np.sqrt((x_hat ** 2).sum())  # the reference code's whole-batch norm differs
    assert abs(gp - (batch_norm - 1) ** 2) > 1.0


def test_gradient_penalty_points_and_unit_gradient():
    # critic(x) = x . w with ||w|| = 1: gradient norm is 1 everywhere, the penalty is 0.
    w = np.array([0.6, 0.8], np.float32)
    critic = lambda x: tf.reduce_sum(x * w, axis=1, keepdims=True)
    pts = np.random.default_rng(1).normal(size=(5, 2)).astype(np.float32)
    assert losses.gradient_penalty(critic, pts, pts[::-1], np.full(5, 0.3, np.float32)).numpy() < 1e-6


def test_unknown_loss_lists_known():
    with pytest.raises(ValueError, match="Known losses: hinge, least_squares, minimax, non_saturating, wasserstein"):
        losses.get_loss("wgan")
