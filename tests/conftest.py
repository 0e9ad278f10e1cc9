import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

# Under pytest-xdist (one worker per core, pytest.ini) each worker's TensorFlow runs one intra-op and one inter-op
# thread: two workers with TensorFlow's default pools (a thread per core each) oversubscribe the cores and spin
# (measured on the 2-core VM: test_vae_gan + test_dcgan 164 s -> 140 s). Set before any test imports TensorFlow, and
# inherited by the processes the tests start; a value set by the caller is kept.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(__file__).parent / "scripts"


def slow_unless(values, default) -> list:
    """Parametrize values with those not in `default` marked slow: the default tier keeps one case of each kind,
    `pytest -m slow` runs the rest (README, Tests)."""
    return [v if v in default else pytest.param(v, marks=pytest.mark.slow) for v in values]


def run_python(args, env=None, timeout=600, check=True):
    """Run `python args...` from the repo root; return the CompletedProcess (stdout+stderr as text)."""
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def signatures_without_keras(root, requests: dict) -> tuple[dict, dict]:
    """Run `requests` ``{export path: {signature: {input: array}}}`` in a fresh process with keras blocked
    (``scripts/run_signatures_without_keras.py``). Returns ``({path: {signature: {output: array}}},
    {path: saved_model_cli show text})``."""
    root = Path(root)
    feed = {f"{path}|{sig}|{k}": v for path, sigs in requests.items() for sig, x in sigs.items() for k, v in x.items()}
    np.savez(root / "in.npz", **feed)
    run_python([SCRIPTS / "run_signatures_without_keras.py", root / "in.npz", root / "out.npz", root / "show.json"])
    out = {}
    with np.load(root / "out.npz") as res:
        for key in res.files:
            path, sig, k = key.split("|")
            out.setdefault(path, {}).setdefault(sig, {})[k] = res[key]
    return out, json.loads((root / "show.json").read_text())


@pytest.fixture
def scripts():
    return SCRIPTS


def free_ports(n: int) -> list[int]:
    """`n` distinct free TCP ports on localhost (bound together, then released)."""
    import socket

    socks = [socket.socket() for _ in range(n)]
    for sock in socks:
        sock.bind(("localhost", 0))
    ports = [sock.getsockname()[1] for sock in socks]
    for sock in socks:
        sock.close()
    return ports


def backup_steps(directory) -> list[int]:
    """Global steps of the finished `trainers.resume.ExactBackup` backups under `directory`."""
    return sorted(int(p.name[5:]) for p in Path(directory).glob("step_*") if (p / "meta.json").exists())


def wait_for_backup(out, step, procs, timeout=300):
    """Poll until a backup at global step >= `step` exists under OUT/backup; fails if a process of `procs` ended
    first (the run finished before it could be killed)."""
    deadline = time.time() + timeout
    while not [s for s in backup_steps(Path(out) / "backup") if s >= step]:
        assert all(p.poll() is None for p in procs), "training finished before it could be killed"
        assert time.time() < deadline, f"no backup at step >= {step} after {timeout} s"
        time.sleep(0.01)


def kill_then_resume(cmd, out, kill_at_step, env=None):
    """Run `cmd`, SIGKILL it as soon as a backup at global step >= `kill_at_step` exists (the kill lands wherever
    the process is then, a backup write included), then run `cmd` again to the end.

    Returns ``(the newest backup's global step at the kill, state.json after the second run)``.
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_backup(out, kill_at_step, [proc])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = max(backup_steps(Path(out) / "backup"))
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return saved, json.loads((Path(out) / "state.json").read_text())


@pytest.fixture(scope="session")
def serving_exports(tmp_path_factory):
    """Exports the serving tests share: dcgan versions 1 and 2 (other weights), latentgan_ae, a models.config with
    labels stable -> 1 and canary -> 2, and a batching parameters file (max_batch_size 8)."""
    import zoo
    from export import export_generator
    from serving import config as config_lib

    root = tmp_path_factory.mktemp("serving")
    digits = zoo.load_dataset("digits", batch_size=16, image_size=16)
    dcgan = zoo.build_model("dcgan", config="smoke")
    dcgan.compile()
    dcgan.fit(digits.take(2), epochs=1, verbose=0)
    export_generator(dcgan, root / "dcgan")                   # version 1
    dcgan.fit(digits.take(2), epochs=1, verbose=0)
    export_generator(dcgan, root / "dcgan")                   # version 2: other weights
    lgae = zoo.build_model("latentgan_ae", config="smoke")
    lgae.compile()
    lgae.fit(digits.take(2), epochs=1, verbose=0)
    export_generator(lgae, root / "lgae")
    config = config_lib.write_models_config(root / "models.config", [
        {"name": "dcgan", "base_path": root / "dcgan", "versions": [1, 2], "labels": {"stable": 1, "canary": 2}},
        {"name": "lgae", "base_path": root / "lgae"}])
    (root / "batching.config").write_text("max_batch_size { value: 8 }\nbatch_timeout_micros { value: 50000 }\n"
                                          "num_batch_threads { value: 1 }\n")
    return {"root": root, "config": config, "lgae": lgae, "dcgan": dcgan}
