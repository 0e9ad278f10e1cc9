"""A `zoo train` process killed with SIGKILL mid-run resumes at its last saved epoch with its optimizer state."""
import sys

from tests.conftest import kill_then_resume

EPOCHS, STEPS = 10, 30


def test_sigkill_then_same_command_resumes(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "zoo", "train", "dcgan", "--dataset", "digits", "--config", "smoke", "--epochs",
           str(EPOCHS), "--steps-per-epoch", str(STEPS), "--out", str(out), "--no-export", "--verbose", "2"]
    saved, state = kill_then_resume(cmd, out, kill_after_epoch=3)
    # BackupAndRestore records the number of finished epochs; the run restarts with the next one.
    assert state["started_at_epoch"] == saved["epoch"] >= 3  # resumed, not restarted
    assert state["epochs_done"] == EPOCHS
    # The optimizers' step counts continue across the kill: the same as an uninterrupted run.
    assert state["g_optimizer_iterations"] == state["d_optimizer_iterations"] == EPOCHS * STEPS
    assert (out / "model.keras").exists() and (out / "samples" / f"epoch_{EPOCHS:04d}.png").exists()
