"""1 device vs MirroredStrategy over 2 logical CPUs, and MultiWorkerMirroredStrategy with 2 real processes."""
import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, free_ports, run_python


def _weights(path):
    with np.load(path) as f:
        return [f[f"arr_{i}"] for i in range(len([k for k in f.files if k.startswith("arr_")]))], dict(f)


def test_mirrored_equals_single_device(tmp_path, scripts):
    run_python([scripts / "train_weights.py", "default", tmp_path / "one.npz"])
    run_python([scripts / "train_weights.py", "mirrored", tmp_path / "two.npz"])
    one, f1 = _weights(tmp_path / "one.npz")
    two, f2 = _weights(tmp_path / "two.npz")
    assert int(f1["replicas"]) == 1 and int(f2["replicas"]) == 2
    assert int(f1["iterations"]) == int(f2["iterations"]) == 8
    assert len(one) == len(two) > 10
    max_diff = max(float(np.abs(a - b).max()) for a, b in zip(one, two))
    assert max_diff < 1e-5, max_diff
    moved = max(float(np.abs(a).max()) for a in one)
    assert moved > 0.01


@pytest.mark.slow  # ~25 s; the default tier keeps one device vs mirrored (dcgan) and two worker processes
def test_growing_model_grows_inside_fit_under_mirrored_strategy(tmp_path, scripts):
    """Growth happens in a callback, outside the strategy scope: the grown networks and optimizers must still be
    mirrored. (Not bit-equal to one device: the minibatch std is taken over each replica's batch.)"""
    run_python([scripts / "train_weights.py", "mirrored", tmp_path / "two.npz"], env={"ZOO_TEST_MODEL": "clggan"})
    weights, f = _weights(tmp_path / "two.npz")
    assert int(f["replicas"]) == 2 and int(f["stage"]) == 1 and int(f["iterations"]) == 8
    assert all(np.isfinite(w).all() for w in weights) and np.isfinite(f["log_d_loss"]).all()


@pytest.mark.slow  # ~40 s; the default tier keeps one device vs mirrored (dcgan) and two worker processes
def test_two_stage_model_switches_inside_fit_under_mirrored_strategy(tmp_path, scripts):
    """LSR-GAN's switch (decoder -> generator copy) runs in a callback on mirrored variables. (Not bit-equal to one
    device: BatchNorm takes its statistics over each replica's batch.)"""
    run_python([scripts / "train_weights.py", "mirrored", tmp_path / "two.npz"], env={"ZOO_TEST_MODEL": "lsr_gan"})
    weights, f = _weights(tmp_path / "two.npz")
    assert int(f["replicas"]) == 2 and int(f["stage"]) == 2 and int(f["iterations"]) == 4
    assert np.isnan(f["log_d_loss"][0]) and np.isfinite(f["log_d_loss"][1]) and np.isfinite(f["log_lsr"][1])
    assert all(np.isfinite(w).all() for w in weights)


def test_multi_worker_two_processes_agree(tmp_path, scripts):
    ports = ",".join(map(str, free_ports(2)))
    env = dict(__import__("os").environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, str(scripts / "train_weights.py"), "multi_worker",
                               str(tmp_path / f"w{i}.npz"), str(i), ports], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(o[-3000:] for o in outs)
    w0, f0 = _weights(tmp_path / "w0.npz")
    w1, f1 = _weights(tmp_path / "w1.npz")
    assert int(f0["replicas"]) == 2 and int(f0["iterations"]) == int(f1["iterations"]) > 0
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a, b)
    for key in ("log_d_loss", "log_g_loss", "log_gp"):
        np.testing.assert_array_equal(f0[key], f1[key])
        assert np.isfinite(f0[key]).all()


@pytest.mark.slow  # ~25 s each
@pytest.mark.parametrize("name", ["feature_conditioned_gan", "latentgan_ae"])
def test_latent_distribution_models_train_under_mirrored_strategy(tmp_path, scripts, name):
    """Spectral norm's in-place kernel update, the feature bank (only-first-replica variables), and LatentGAN-AE's
    three optimizers, all-reduced latent statistics and phase switch (smoke: 4 warm-up steps, so epoch 1 of 4
    steps is the autoencoder's and G trains in epoch 2) on mirrored variables. (Neighbours are found in each
    replica's batch, so not bit-equal.)"""
    run_python([scripts / "train_weights.py", "mirrored", tmp_path / "two.npz"], env={"ZOO_TEST_MODEL": name})
    weights, f = _weights(tmp_path / "two.npz")
    g_steps = {"feature_conditioned_gan": 8, "latentgan_ae": 4}[name]
    assert int(f["replicas"]) == 2 and int(f["iterations"]) == g_steps
    assert all(np.isfinite(w).all() for w in weights)
    assert np.isfinite(f["log_d_loss"][-1]) and np.isfinite(f["log_g_loss"][-1])
    if name == "latentgan_ae":
        assert f["log_phase"].tolist() == [0.0, 1.0] and np.isnan(f["log_d_loss"][0])


@pytest.mark.parametrize("task,cluster,chief", [
    ({"type": "worker", "index": 0}, {"worker": ["a:1", "b:1"]}, True),
    ({"type": "worker", "index": 1}, {"worker": ["a:1", "b:1"]}, False),
    ({"type": "worker", "index": 0}, {"chief": ["c:1"], "worker": ["a:1"]}, False),
    ({"type": "chief", "index": 0}, {"chief": ["c:1"], "worker": ["a:1"]}, True),
])
def test_is_chief_follows_tf_config_in_and_out_of_a_strategy_scope(monkeypatch, task, cluster, chief):
    """Callbacks run outside the strategy scope: the answer must not depend on the strategy in scope."""
    from trainers.strategy import is_chief

    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
    assert is_chief() is chief
    monkeypatch.delenv("TF_CONFIG")
    assert is_chief() is True
