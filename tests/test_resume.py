"""Exact resume (`trainers.resume.ExactBackup` and the step-addressed data stream of `zoo.load_dataset`): a run
stopped at any step and started again with the same arguments ends bit-identical to the run that never stopped.

Kill points are drawn at random on every run (seed ``ZOO_KILL_SEED``, printed in every failure); the in-process
cases stop `fit` with an exception from a callback and build the model anew, the CLI cases SIGKILL the process.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.conftest import ROOT, backup_steps, free_ports, kill_then_resume, run_python, wait_for_backup
from trainers.resume import BackupError, ExactBackup, parse_every, seed_generators, select_backup
import zoo
from zoo_app.fit import train

KILL_SEED = int(os.environ.get("ZOO_KILL_SEED", random.SystemRandom().randrange(10**6)))
RNG = random.Random(KILL_SEED)


class Stop(keras.callbacks.Callback):
    """Raises after the `at`-th step this process runs (a backup due at that step is written first)."""

    def __init__(self, at):
        super().__init__()
        self.at, self.n = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.n += 1
        if self.n == self.at:
            raise KeyboardInterrupt(f"stopped after step {self.n}")


def state_of(model):
    return [v.numpy() for v in model.weights] + [sg.state.numpy() for sg in seed_generators(model)]


def assert_same_run(a, b, ha, hb, where):
    wa, wb = state_of(a), state_of(b)
    assert len(wa) == len(wb), where
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x, y, err_msg=where)
    last = {k: v[-1] for k, v in ha.history.items() if k != "epoch_seconds"}
    assert last == pytest.approx({k: hb.history[k][-1] for k in last}, nan_ok=True), where


def assert_same_networks(a, b, where):
    """The generators' and critics' weights of two runs are equal (what a ``.keras`` file of each run holds)."""
    wa, wb = a.generator.weights + a.discriminator.weights, b.generator.weights + b.discriminator.weights
    assert [w.shape for w in wa] == [w.shape for w in wb], where
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=where)


def stopped_and_resumed(name, dataset, out, kill_at, **kw):
    """Train to `kill_at`, stop, train again with the same arguments; returns ``(model, history)``."""
    with pytest.raises(KeyboardInterrupt):
        train(name, dataset, out=out, callbacks=[Stop(kill_at)], verbose=0, **kw)
    return train(name, dataset, out=out, verbose=0, **kw)


# (name, dataset, settings, the global steps a kill is drawn from, what that range is)
CASES = [
    ("dcgan", "digits", dict(epochs=3, steps_per_epoch=8), (1, 23), "any step"),
    # R1: a gradient of the critic taken inside the critic's step (and its logged value, a metric)
    ("dcgan", "digits", dict(epochs=3, steps_per_epoch=8, r1_weight=10.0, g_upsample="resize"), (1, 23),
     "any step, R1"),
    ("clggan", "digits", dict(epochs=4, steps_per_epoch=6), (7, 11), "first epoch after the growth"),
    ("clggan", "digits", dict(epochs=4, steps_per_epoch=6), (13, 17), "mid-fade"),
    ("lsr_gan", "digits", dict(epochs=2, steps_per_epoch=4), (5, 7), "the epoch of the stage switch"),
    ("lsr_gan", "digits", dict(epochs=2, steps_per_epoch=4, vae_epochs=0), (2, 7), "stage 2"),
    ("latentgan_ae", "digits", dict(epochs=3, steps_per_epoch=5), (1, 14), "any step"),
    # the paper's spectral norm: each layer's power-iteration u is state outside the optimizer
    ("sngan", "digits", dict(epochs=3, steps_per_epoch=4, spectral="reparam"), (1, 11), "any step, reparam"),
]
SLOW_CASES = {"mid-fade", "the epoch of the stage switch", "any step, R1"}  # the default tier keeps one kill per model
_REFERENCE = {}


def reference(tmp_path_factory, name, dataset, settings):
    key = (name, dataset, tuple(sorted(settings.items())))
    if key not in _REFERENCE:
        _REFERENCE[key] = train(name, dataset, config="smoke", out=tmp_path_factory.mktemp(name), verbose=0,
                                **settings)
    return _REFERENCE[key]


@pytest.mark.parametrize("name,dataset,settings,steps,what", [
    pytest.param(*c, id=f"{c[0]}-{c[4]}", marks=[pytest.mark.slow] if c[4] in SLOW_CASES else []) for c in CASES])
def test_stopped_at_a_random_step_resumes_bit_identical(tmp_path, tmp_path_factory, name, dataset, settings, steps,
                                                        what):
    a, ha = reference(tmp_path_factory, name, dataset, settings)
    kill_at, every = RNG.randint(*steps), RNG.choice([1, 2, 3])
    b, hb = stopped_and_resumed(name, dataset, tmp_path / "run", kill_at, config="smoke", backup_every=every,
                                **settings)
    assert_same_run(a, b, ha, hb, f"{name} stopped at step {kill_at} ({what}), backup every {every} "
                                  f"(ZOO_KILL_SEED={KILL_SEED})")
    assert getattr(b, "stage", None) == getattr(a, "stage", None)


def test_a_run_with_the_generators_moving_average_resumes_bit_identical(tmp_path):
    """``use_ema`` on ``g_optimizer`` (the presets' recipe): the averages are optimizer variables, so a run stopped
    mid-way must restore them; ``fit`` ends by writing them into the generator, whose weights are compared. The
    preset config itself, at the smoke config's sizes."""
    small = zoo.get_config("dcgan", "smoke")
    settings = dict(config="fashion32_long", epochs=3, steps_per_epoch=4, batch_size=small["train"]["batch_size"],
                    **small["model"])
    a, ha = train("dcgan", "digits", out=tmp_path / "a", verbose=0, **settings)
    kill_at = RNG.randint(2, 11)
    b, hb = stopped_and_resumed("dcgan", "digits", tmp_path / "b", kill_at, **settings)
    where = f"dcgan with use_ema stopped at step {kill_at} (ZOO_KILL_SEED={KILL_SEED})"
    assert_same_run(a, b, ha, hb, where)
    raw, _ = train("dcgan", "digits", out=tmp_path / "raw", verbose=0, config="smoke", epochs=3, steps_per_epoch=4)
    assert any(not np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a.generator.weights, raw.generator.weights)),\
        "the average was not written into the generator"


def test_a_damaged_newest_backup_falls_back_to_the_previous_one(tmp_path, tmp_path_factory):
    settings = dict(epochs=3, steps_per_epoch=8)
    a, ha = reference(tmp_path_factory, "dcgan", "digits", settings)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train("dcgan", "digits", config="smoke", out=out, callbacks=[Stop(13)], verbose=0, backup_every=2, **settings)
    steps = backup_steps(out / "backup")
    assert steps == [10, 12]  # keep=2: the newest two
    newest = out / "backup" / "step_0000000012" / "weights.weights.h5"
    newest.write_bytes(newest.read_bytes()[:1000])  # truncated, as by a full disk
    (out / "backup" / ".tmp_step_0000000014").mkdir()  # a write the kill interrupted: ignored
    with pytest.warns(UserWarning, match="step_0000000012: weights.weights.h5 does not match its SHA-256"):
        b, hb = train("dcgan", "digits", config="smoke", out=out, verbose=0, backup_every=2, **settings)
    assert_same_run(a, b, ha, hb, "resumed from step 10 after step 12's backup was truncated")


def test_no_usable_backup_stops_and_says_what_to_delete(tmp_path):
    out = tmp_path / "run"
    train("dcgan", "digits", config="smoke", out=out, epochs=1, steps_per_epoch=4, verbose=0, backup_every=2)
    for step in backup_steps(out / "backup"):
        (out / "backup" / f"step_{step:010d}" / "state.npz").write_bytes(b"")
    before = sorted(p.name for p in (out / "checkpoints").iterdir())
    with pytest.raises(BackupError, match=f"Delete {out / 'backup'} to start this run over"):
        train("dcgan", "digits", config="smoke", out=out, epochs=2, steps_per_epoch=4, verbose=0, backup_every=2)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == before  # nothing trained, nothing lost


def test_resuming_with_other_steps_per_epoch_is_refused(tmp_path):
    out = tmp_path / "run"
    train("dcgan", "digits", config="smoke", out=out, epochs=1, steps_per_epoch=4, verbose=0)
    with pytest.raises(BackupError, match="steps_per_epoch=4; this fit has 5"):
        train("dcgan", "digits", config="smoke", out=out, epochs=2, steps_per_epoch=5, verbose=0)


def test_a_bfloat16_run_resumes_in_bfloat16_under_auto_and_refuses_another_policy(tmp_path):
    """On any machine: ``auto`` would pick float32 where the CPU lacks bf16, which would not be the same run."""
    settings = dict(config="smoke", epochs=2, steps_per_epoch=4, verbose=0, backup_every=1)
    a, ha = train("dcgan", "digits", out=tmp_path / "a", precision="mixed_bfloat16", **settings)
    out = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        train("dcgan", "digits", out=out, precision="mixed_bfloat16", callbacks=[Stop(RNG.randint(1, 7))],
              **settings)
    with pytest.raises(ValueError, match="trained in mixed_bfloat16; it resumes exactly only in that policy"):
        train("dcgan", "digits", out=out, precision="float32", **settings)
    b, hb = train("dcgan", "digits", out=out, precision="auto", **settings)
    assert b.generator.dtype_policy.name == "mixed_bfloat16"
    assert json.loads((out / "run.json").read_text())["precision"]["requested"] == "mixed_bfloat16"
    assert_same_run(a, b, ha, hb, f"bf16 dcgan resumed under auto (ZOO_KILL_SEED={KILL_SEED})")


def test_a_bfloat16_run_with_dilated_weight_gradients_resumes_bit_identical(tmp_path):
    """``base_channels=32``: D's down1 and G's up0 are wide enough for `zoo.conv`'s dilated weight gradient under
    bf16 on a CPU, so the kill and the resume both run it (its choice is static: the same kernels after a resume)."""
    from zoo.conv import Conv2D

    settings = dict(config="smoke", epochs=2, steps_per_epoch=4, verbose=0, backup_every=1, base_channels=32,
                    precision="mixed_bfloat16")
    a, ha = train("dcgan", "digits", out=tmp_path / "a", **settings)
    out = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        train("dcgan", "digits", out=out, callbacks=[Stop(RNG.randint(1, 7))], **settings)
    b, hb = train("dcgan", "digits", out=out, **settings)
    down1 = b.discriminator.get_layer("down1")
    assert isinstance(down1, Conv2D) and down1.input.shape[-1] == 32 and down1.weight_gradient == "auto"
    assert_same_run(a, b, ha, hb, f"bf16 dcgan with dilated weight gradients (ZOO_KILL_SEED={KILL_SEED})")


def test_backup_interval_parsing_and_pruning(tmp_path):
    assert parse_every(500) == ("steps", 500) and parse_every("60s") == ("seconds", 60.0)
    assert parse_every("epoch") == ("epoch", 0.0)
    for bad in ("0", "-3", "1m", "", "s"):
        with pytest.raises(ValueError, match="not a number of steps"):
            parse_every(bad)
    assert select_backup(tmp_path) is None  # a fresh run
    with pytest.raises(ValueError, match="keep must be at least 1"):
        ExactBackup(tmp_path, keep=0)


@pytest.mark.slow
def test_mirrored_strategy_over_two_cpus_resumes_bit_identical(tmp_path, scripts):
    kill_at = RNG.randint(1, 15)
    proc = run_python([scripts / "resume_mirrored.py", tmp_path, kill_at])
    assert "bit-identical" in proc.stdout, f"stopped at {kill_at} (ZOO_KILL_SEED={KILL_SEED}):\n{proc.stdout[-2000:]}"


CLI = [sys.executable, "-m", "zoo", "train"]


@pytest.mark.parametrize("name,dataset,epochs,steps,kill", [
    pytest.param("dcgan", "digits", 4, 10, (3, 35), id="dcgan"),
    pytest.param("clggan", "fashion_mnist", 4, 10, (11, 30), id="clggan", marks=pytest.mark.slow),  # grows at
])                                                                                 # epoch 1, fades over epochs 1-2
def test_sigkill_then_same_command_ends_bit_identical(tmp_path, name, dataset, epochs, steps, kill):
    args = [name, "--dataset", dataset, "--config", "smoke", "--epochs", str(epochs), "--steps-per-epoch", str(steps),
            "--no-export", "--verbose", "2", "--backup-every", "1"]
    kill_at = RNG.randint(*kill)
    saved, state = kill_then_resume(CLI + args + ["--out", str(tmp_path / "killed")], tmp_path / "killed", kill_at)
    where = f"{name} SIGKILLed after the backup of step {kill_at} (newest backup {saved}, ZOO_KILL_SEED={KILL_SEED})"
    assert state["started_at_step"] == saved and state["epochs_done"] == epochs, where
    a, _ = train(name, dataset, config="smoke", epochs=epochs, steps_per_epoch=steps, out=tmp_path / "whole",
                 verbose=0, backup_every=1)  # what the command runs, in this process
    b = keras.saving.load_model(tmp_path / "killed" / "model.keras")  # (a .keras file holds no seed states)
    assert_same_networks(a, b, where)
    shutil.rmtree(tmp_path)


def _workers(args, out, ports):
    """The two worker processes of one `zoo train ... --strategy multi_worker` run (one command each, TF_CONFIG)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = []
    for index in range(2):
        cluster = {"cluster": {"worker": [f"localhost:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
        procs.append(subprocess.Popen(CLI + args + ["--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True,
                                      env=dict(env, TF_CONFIG=json.dumps(cluster))))
    return procs


def _finish(procs):
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n\n".join(o[-3000:] for o in outs)


@pytest.mark.slow
def test_two_worker_cli_run_killed_and_restarted_ends_like_the_uninterrupted_one(tmp_path):
    args = ["dcgan", "--dataset", "digits", "--config", "smoke", "--epochs", "3", "--steps-per-epoch", "10",
            "--strategy", "multi_worker", "--no-export", "--verbose", "2", "--backup-every", "2"]
    _finish(_workers(args, tmp_path / "whole", free_ports(2)))
    kill_at = RNG.randint(3, 25)
    procs = _workers(args, tmp_path / "killed", free_ports(2))
    wait_for_backup(tmp_path / "killed", kill_at, procs)
    os.kill(procs[1].pid, signal.SIGKILL)  # one worker dies; its peer cannot go on alone
    try:
        procs[0].wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(procs[0].pid, signal.SIGKILL)
    for p in procs:
        p.wait()
    saved = max(backup_steps(tmp_path / "killed" / "backup"))
    _finish(_workers(args, tmp_path / "killed", free_ports(2)))  # the same two commands again
    state = json.loads((tmp_path / "killed" / "state.json").read_text())
    where = f"worker 1 SIGKILLed after the backup of step {kill_at} (newest {saved}, ZOO_KILL_SEED={KILL_SEED})"
    assert state["started_at_step"] == saved and state["epochs_done"] == 3, where
    a = keras.saving.load_model(tmp_path / "whole" / "model.keras")
    b = keras.saving.load_model(tmp_path / "killed" / "model.keras")
    assert a.g_optimizer.iterations.numpy() == 30
    assert_same_networks(a, b, where)


def test_a_stream_of_unknown_length_is_refused_with_the_fix(tmp_path):
    model = zoo.build_model("dcgan", config="smoke")
    model.compile()
    ds = zoo.load_dataset("digits", batch_size=16, image_size=16).filter(lambda x: True)  # unknown cardinality
    with pytest.raises(ValueError, match="needs the number of steps per epoch: pass steps_per_epoch"):
        model.fit(ds, epochs=1, verbose=0, callbacks=[ExactBackup(tmp_path / "backup")])


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.list_models())
def test_every_registered_model_resumes_bit_identical(tmp_path, name):
    """Each model's smoke config for 3 epochs of 4 steps, stopped at a random step and resumed."""
    dataset = "swiss_roll" if name == "growing_mlp_gan" else "digits"
    settings = dict(config="smoke", epochs=3, steps_per_epoch=4)
    a, ha = train(name, dataset, out=tmp_path / "whole", verbose=0, **settings)
    kill_at, every = RNG.randint(1, 11), RNG.choice([1, 2, 3])
    b, hb = stopped_and_resumed(name, dataset, tmp_path / "stopped", kill_at, backup_every=every, **settings)
    assert_same_run(a, b, ha, hb, f"{name} stopped at step {kill_at}, backup every {every} (ZOO_KILL_SEED={KILL_SEED})")


def test_a_backup_directory_that_exactbackup_did_not_write_is_not_silently_ignored(tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "latest.weights.h5").write_bytes(b"keras")  # BackupAndRestore's file
    with pytest.raises(BackupError, match="latest.weights.h5, which no ExactBackup wrote"):
        select_backup(tmp_path / "backup")


@pytest.mark.slow  # ~20 s; the default tier has the synchronous-growth kill cases above
def test_a_kill_around_a_growth_prepared_ahead_resumes_like_synchronous_growth(tmp_path, tmp_path_factory):
    """Growth prepared in a background thread (`trainers.growth_ahead`), killed in the window where the preparation
    runs or was just adopted (steps 5-8; clggan smoke grows at step 7) and resumed with the same arguments, ends
    bit-identical to the uninterrupted run with synchronous growth."""
    from trainers.growing import GrowthSchedule

    settings = dict(epochs=4, steps_per_epoch=6)
    a, ha = reference(tmp_path_factory, "clggan", "digits", settings)
    kill_at, every = RNG.randint(5, 8), RNG.choice([1, 2])
    where = f"clggan, growth ahead, stopped at step {kill_at}, backup every {every} (ZOO_KILL_SEED={KILL_SEED})"
    kw = dict(config="smoke", out=tmp_path / "run", backup_every=every, verbose=0, **settings)
    with pytest.raises(KeyboardInterrupt):
        train("clggan", "digits", callbacks=[GrowthSchedule(ahead=True), Stop(kill_at)], **kw)
    schedule = GrowthSchedule(ahead=True)
    b, hb = train("clggan", "digits", callbacks=[schedule], **kw)
    assert_same_run(a, b, ha, hb, where)
    assert b.stage == a.stage == 1
