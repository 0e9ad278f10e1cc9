"""VAE / beta-VAE (LSR-GAN stage 1): loss terms against hand computation, table-3 shapes, reparameterisation,
real training on Fashion-MNIST."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.vae import Reparameterize, losses


def test_reconstruction_terms_match_hand_computation():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (2, 2, 3, 3, 1)).astype(np.float32)
    sq = ((x - y) ** 2).reshape(2, -1)
    np.testing.assert_allclose(losses.reconstruction_loss(x, y, "sse"), sq.sum(1), rtol=1e-6)
    np.testing.assert_allclose(losses.reconstruction_loss(x, y, "optimal_variance"),
                               0.5 * 9 * np.log(sq.mean(1) + 1e-8), rtol=1e-5)
    p, q = ((x + 1) / 2).reshape(2, -1), ((y + 1) / 2).reshape(2, -1)
    np.testing.assert_allclose(losses.reconstruction_loss(x, y, "bernoulli"),
                               -(p * np.log(q) + (1 - p) * np.log(1 - q)).sum(1), rtol=1e-5)
    with pytest.raises(ValueError, match="Known: sse, bernoulli, optimal_variance"):
        losses.reconstruction_loss(x, y, "mse")


def test_kl_matches_closed_form_and_monte_carlo():
    mu, logvar = np.array([[0.5, -1.0]], np.float32), np.array([[0.2, -0.7]], np.float32)
    closed = 0.5 * np.sum(mu ** 2 + np.exp(logvar) - 1 - logvar)
    np.testing.assert_allclose(losses.kl_standard_normal(mu, logvar), [closed], rtol=1e-6)
    z = mu + np.exp(0.5 * logvar) * np.random.default_rng(1).normal(size=(200_000, 2))
    log_q = -0.5 * (((z - mu) ** 2) / np.exp(logvar) + logvar + np.log(2 * np.pi)).sum(1)
    log_p = -0.5 * (z ** 2 + np.log(2 * np.pi)).sum(1)
    assert abs((log_q - log_p).mean() - closed) < 0.01


def test_networks_follow_table_3():
    vae = zoo.build_model("vae", config="fashion32")
    assert vae.encoder.get_layer("flatten").output.shape[-1] == 512  # 4 x 4 x 32
    assert vae.encoder.get_layer("fc").kernel.shape == (512, 128)
    assert [o.shape for o in vae.encoder.outputs] == [(None, 128), (None, 128)]
    assert vae.generator.get_layer("fc").kernel.shape == (128, 512)
    assert vae.generator.output.shape == (None, 32, 32, 1)
    with pytest.raises(ValueError, match="image_size=64 needs log2"):
        zoo.build_model("vae", config="fashion32", image_size=64)


def test_reparameterisation_is_seeded_and_has_the_right_moments():
    mu, logvar = tf.fill([50_000, 2], 1.5), tf.fill([50_000, 2], np.log(0.25).astype(np.float32))
    a, b = Reparameterize(seed=3)(mu, logvar), Reparameterize(seed=3)(mu, logvar)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a.numpy().mean(0), 1.5, atol=0.01)
    np.testing.assert_allclose(a.numpy().std(0), 0.5, atol=0.01)


@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_training_on_fashion_mnist_lowers_the_loss(beta):
    keras.utils.set_random_seed(0)
    vae = zoo.build_model("vae", config="smoke", beta=beta, reconstruction="sse")
    vae.compile(optimizer=keras.optimizers.Adam(2e-3))
    ds = zoo.load_dataset("fashion_mnist", batch_size=64, image_size=32, repeat=True)
    before = vae.evaluate(ds, steps=4, verbose=0, return_dict=True)
    vae.fit(ds, epochs=1, steps_per_epoch=60, verbose=0)
    after = vae.evaluate(ds, steps=4, verbose=0, return_dict=True)
    assert after["reconstruction"] < 0.7 * before["reconstruction"]
    assert after["loss"] == pytest.approx(after["reconstruction"] + beta * after["kl"], rel=1e-3)
