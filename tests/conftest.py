import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(__file__).parent / "scripts"


def run_python(args, env=None, timeout=600, check=True):
    """Run `python args...` from the repo root; return the CompletedProcess (stdout+stderr as text)."""
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


@pytest.fixture
def scripts():
    return SCRIPTS


def kill_then_resume(cmd, out, kill_after_epoch):
    """Run `cmd`, SIGKILL it once OUT/checkpoints/epoch_<kill_after_epoch>.weights.h5 exists, run `cmd` again.

    Returns ``(backup metadata at the kill, state.json after the second run)``.
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = Path(out) / "checkpoints" / f"epoch_{kill_after_epoch:04d}.weights.h5"
    deadline = time.time() + 300
    while not target.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = json.loads((Path(out) / "backup" / "training_metadata.json").read_text())
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return saved, json.loads((Path(out) / "state.json").read_text())
