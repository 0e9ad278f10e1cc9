"""Latency and throughput of the development server (``python -m serving``) against the in-process SavedModel call.

    python bench/serving.py [--clients 8] [--requests 200] [--batch 1] [--preset dcgan_fashion_mnist]
                            [--out bench/results/serving.json]

Protocol: the preset's generator is exported (``serving_default``: latent ``[batch, D]`` -> images, 32x32x1) and
served by ``python -m serving`` in its own process (gRPC and REST). `--clients` threads each send `--requests`
Predict requests, one after another, first over REST (columnar JSON, ``urllib``), then over gRPC (the official
``PredictionServiceStub``); every response is checked (no request may fail or be dropped). Latency = client wall time
per request (p50, p99); throughput = requests answered / wall time of the whole burst. In-process = the same
signature called from `--clients` threads on ``tf.saved_model.load`` of the same export, then from one thread,
in this process. Ratios = server / in-process (latency) and in-process / server (throughput). One run, in one
process tree, so machine noise hits every path alike; after 20 warm-up requests per path.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)  # this file is named serving.py: let `import serving` find the package, not itself


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def burst(call, clients: int, requests: int, latent) -> dict:
    """Run `call(latent)` `requests` times in each of `clients` threads; latencies and throughput."""
    def worker(_):
        times, failures = [], 0
        for _ in range(requests):
            t = time.perf_counter()
            try:
                out = call(latent)
                failures += int(out.shape[0] != latent.shape[0])
            except Exception:  # counted, reported, and fails the bench
                failures += 1
            times.append(time.perf_counter() - t)
        return times, failures

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(worker, range(clients)))
    wall = time.perf_counter() - start
    lat = np.concatenate([r[0] for r in results]) * 1000
    return {"requests": int(lat.size), "failed": int(sum(r[1] for r in results)), "wall_s": round(wall, 3),
            "throughput_rps": round(lat.size / wall, 1), "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p99_ms": round(float(np.percentile(lat, 99)), 2)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--preset", default="dcgan_fashion_mnist")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "serving.json"))
    args = p.parse_args(argv)

    import tensorflow as tf

    import zoo
    from export import export_generator
    from serving.client import GrpcClient, RestClient

    tmp = Path(tempfile.mkdtemp(prefix="zoo-bench-serving-"))
    model = zoo.load_pretrained(args.preset)
    path = export_generator(model, tmp / "m")
    latent = np.random.default_rng(0).normal(size=(args.batch, model.latent_dim)).astype(np.float32)

    grpc_port, rest_port = _free_port(), _free_port()
    server = subprocess.Popen([sys.executable, "-m", "serving", f"--port={grpc_port}", f"--rest_api_port={rest_port}",
                               "--model_name=m", f"--model_base_path={tmp / 'm'}"], cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        if "gRPC on port" not in line:
            raise RuntimeError(f"server did not start: {line!r}")
        rest, grpc_client = RestClient(f"http://localhost:{rest_port}"), GrpcClient(f"localhost:{grpc_port}")
        loaded = tf.saved_model.load(str(path)).signatures["serving_default"]
        paths = {
            "rest": lambda z: rest.predict("m", {"latent": z})["images"],
            "grpc": lambda z: grpc_client.predict("m", {"latent": z})["images"],
            "in_process": lambda z: loaded(latent=tf.constant(z))["images"].numpy(),
        }
        for call in paths.values():  # warm-up, and the answers agree
            for _ in range(20):
                call(latent)
        want = paths["in_process"](latent)
        for name in ("rest", "grpc"):
            np.testing.assert_allclose(paths[name](latent), want, atol=1e-5)
        results = {name: burst(call, args.clients, args.requests, latent) for name, call in paths.items()}
        results["in_process_1_thread"] = burst(paths["in_process"], 1, args.clients * args.requests // 4, latent)
    finally:
        server.terminate()
        server.wait(30)
    ratios = {f"{name}_vs_in_process": {
        "p50_latency_ratio": round(results[name]["p50_ms"] / results["in_process"]["p50_ms"], 2),
        "throughput_ratio": round(results["in_process"]["throughput_rps"] / results[name]["throughput_rps"], 2)}
        for name in ("rest", "grpc")}
    result = {"protocol": __doc__.split("\n\n", 2)[2].strip(), "preset": args.preset, "clients": args.clients,
              "requests_per_client": args.requests, "batch": args.batch, "results": results, "ratios": ratios,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "gpu": "none"},
              "versions": {"tensorflow": tf.__version__, "python": platform.python_version()}}
    failed = sum(r["failed"] for r in results.values())
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    if failed:
        sys.exit(f"{failed} requests failed or were dropped")


if __name__ == "__main__":
    main()
