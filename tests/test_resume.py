"""A `zoo train` process killed with SIGKILL mid-run resumes at its last saved epoch with its optimizer state."""
import json
import os
import signal
import subprocess
import sys
import time

from tests.conftest import ROOT

EPOCHS, STEPS = 10, 30


def _cmd(out):
    return [sys.executable, "-m", "zoo", "train", "dcgan", "--dataset", "digits", "--config", "smoke", "--epochs",
            str(EPOCHS), "--steps-per-epoch", str(STEPS), "--out", str(out), "--no-export", "--verbose", "2"]


def test_sigkill_then_same_command_resumes(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(_cmd(out), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = out / "checkpoints" / "epoch_0003.weights.h5"
    deadline = time.time() + 300
    while not target.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = json.loads((out / "backup" / "training_metadata.json").read_text())
    killed_state = json.loads((out / "state.json").read_text())
    assert killed_state["epochs_done"] < EPOCHS

    done = subprocess.run(_cmd(out), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads((out / "state.json").read_text())
    # BackupAndRestore records the number of finished epochs; the run restarts with the next one.
    assert state["started_at_epoch"] == saved["epoch"] >= 3  # resumed, not restarted
    assert state["epochs_done"] == EPOCHS
    # The optimizers' step counts continue across the kill: the same as an uninterrupted run.
    assert state["g_optimizer_iterations"] == state["d_optimizer_iterations"] == EPOCHS * STEPS
    assert (out / "model.keras").exists() and (out / "samples" / f"epoch_{EPOCHS:04d}.png").exists()
