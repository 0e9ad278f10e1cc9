"""Latent walks and the per-block variability score (thesis 7.2.1, 7.2.2, 9) on zoo generators."""
import numpy as np
import pytest

import zoo
from zoo import walks


def test_doubling_blocks_follow_the_thesis_sets():
    assert walks.doubling_blocks(256) == [(0, 8), (8, 16), (16, 32), (32, 64), (64, 128), (128, 256)]
    assert [walks.block_label(b) for b in walks.doubling_blocks(20)] == ["1-8", "9-16", "17-20"]


def test_interpolations_hit_both_ends_and_slerp_stays_on_the_sphere():
    rng = np.random.default_rng(0)
    a, b = (v / np.linalg.norm(v) for v in rng.normal(size=(2, 16)))
    for method in ("lerp", "slerp"):
        path = walks.interpolate(a, b, 7, method)
        np.testing.assert_allclose(path[[0, -1]], [a, b], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(walks.interpolate(a, b, 7, "slerp"), axis=1), 1.0, atol=1e-5)
    assert np.linalg.norm(walks.interpolate(a, b, 7, "lerp")[3]) < 0.99
    with pytest.raises(ValueError, match="Known: lerp, slerp"):
        walks.interpolate(a, b, 3, "cubic")


def test_block_and_axis_walks_change_only_their_dimensions():
    model = zoo.build_model("dcgan", config="smoke")
    lat = walks.block_walk_latents(model, (8, 16), rows=3, keyframes=5, steps_between=4, seed=1)
    assert lat.shape == (3, 17, model.latent_dim)
    outside = np.delete(lat, np.s_[8:16], axis=2)
    np.testing.assert_array_equal(outside, np.repeat(outside[:, :1], 17, axis=1))
    assert np.all(lat[:, :, 8:16].std(axis=1) > 0)
    ax = walks.axis_walk_latents(model, 4, np.linspace(-0.125, 0.125, 5), rows=2)
    np.testing.assert_array_equal(ax[:, :, 4], np.tile(np.linspace(-0.125, 0.125, 5, dtype=np.float32), (2, 1)))
    np.testing.assert_array_equal(np.delete(ax, 4, axis=2), np.repeat(np.delete(ax, 4, axis=2)[:, :1], 5, axis=1))
    images = walks.render(model, lat)
    assert images.shape[:2] == (3, 17)


def test_variability_is_zero_for_a_block_the_generator_ignores(tmp_path):
    model = zoo.build_model("bggan", config="smoke")  # latent 4 -> 8
    model.grow()  # beta = 0: latent dims 5-8 have no effect yet
    scores = walks.block_variability(model, blocks=[(0, 4), (4, 8)], n=16, refs=4)
    assert scores["5-8"] < 1e-6 and scores["1-4"] > 1e-3  # (0 up to float round-off)
    model.set_fade(1.0)
    assert walks.block_variability(model, blocks=[(4, 8)], n=16, refs=4)["5-8"] > 1e-4
    png = walks.save_walk(walks.render(model, walks.block_walk_latents(model, (0, 4), rows=2)), tmp_path / "w.png")
    gif = walks.save_walk(walks.render(model, walks.block_walk_latents(model, (0, 4), rows=2)), tmp_path / "w.gif",
                          gif=True)
    from PIL import Image

    assert Image.open(png).size[0] > 0 and Image.open(gif).n_frames == 17
