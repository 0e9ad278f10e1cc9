"""Latency and throughput of the development server (``python -m serving``) against the in-process SavedModel call,
and the server's memory after each bad request.

    python bench/serving.py [--clients 8] [--requests 200] [--batch 1] [--preset dcgan_fashion_mnist]
                            [--out bench/results/serving.json]

Protocol: the preset's generator is exported (``serving_default``: latent ``[batch, D]`` -> images, 32x32x1) and
served by two ``python -m serving`` processes: one plain (TF Serving's defaults), one with ``--enable_batching``
(``BATCHING`` and ``BATCHING_SERVER_FLAGS`` below). `--clients` threads each send `--requests` Predict requests,
one after another, over REST (columnar JSON, ``urllib``, a new connection per request) and over gRPC (the official
``PredictionServiceStub``) to each server; every response is checked (no request may fail or be dropped).
Latency = client wall time per request (p50, p99); throughput = requests answered / wall time of the burst.
In-process = the same signature called from `--clients` threads on ``tf.saved_model.load`` of the same export: in
this process with TensorFlow's default threads, and in a child process with intra- and inter-op parallelism 1 (the
batching server's setting); the faster of the two is the reference. Ratios: throughput server / in-process
reference, latency p99 / p50 per path; CPU time per request of the bench process (the clients, or the in-process
call) and of the server process (``/proc/PID/stat``), the server's split by thread kind (`thread_cpu_seconds`). The
CPU ceiling of a server path is the machine's cores / (server + client CPU per request): the throughput it could
reach if every core were busy with nothing else. The paths run in one interleaved sequence, `--rounds` times,
and each path's figures are those of its better round (every round is in ``rounds_raw``), so a slow moment of the
2-core machine does not land on one path alone; 20 warm-up requests per path first, then ``gc.freeze()`` in this
process (as the server does after loading: with TensorFlow loaded, a full GC pass scans all of its objects and
stalls every thread). Both servers run their gRPC and REST fronts on ``event_loop`` (`serving.aio`: uvloop where it
is installed, asyncio's loop with ``ZOO_SERVING_LOOP=asyncio``; `bench/serving_loops.py` compares the two).
Bad requests: each request of ``BAD`` is sent once to the plain server, whose VmRSS (``/proc/PID/status``) is read
before and after; the table has its HTTP status, its time, and the RSS growth.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import gc
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)  # this file is named serving.py: let `import serving` find the package, not itself

BATCHING = "max_batch_size { value: 8 }\nbatch_timeout_micros { value: 0 }\nnum_batch_threads { value: 1 }\n"
# The batching server's TensorFlow threads: one batch thread feeds TF, so intra- and inter-op pools of their own
# only spin (measured: their threads took ~0.2 ms of CPU per request on 2 cores). The in-process reference is
# measured both with TF's defaults and with this setting, and the faster of the two is the reference.
BATCHING_SERVER_FLAGS = ("--tensorflow_session_parallelism=1",)
BAD = {  # what -> (signature, JSON body)
    "count=2000": b'{"signature_name": "generate_from_seed", "inputs": {"seed": 0, "count": 2000}}',
    "steps=10^9": b'{"signature_name": "interpolate", "inputs": {"latent_a": [[%s]], "latent_b": [[%s]], '
                  b'"steps": 1000000000}}',
    "count=2^32+1": b'{"signature_name": "generate_from_seed", "inputs": {"seed": 0, "count": 4294967297}}',
    "seed=2^63": b'{"signature_name": "generate_from_seed", "inputs": {"seed": 9223372036854775808, "count": 1}}',
    "count=true": b'{"signature_name": "generate_from_seed", "inputs": {"seed": 0, "count": true}}',
    "latent 1e39": b'{"inputs": [[1e39%s]]}',
    "batch of 100,000": b'{"inputs": [%s]}',
    "ragged list": b'{"inputs": [[%s], [0]]}',
    "100000-deep nesting": b'{"inputs": ' + b"[" * 100000 + b"]" * 100000 + b"}",
    "signature_name list": b'{"signature_name": ["x"], "inputs": [[%s]]}',
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of process `pid` (/proc/PID/stat)."""
    return _stat_seconds(f"/proc/{pid}/stat")


def _stat_seconds(path: str) -> float:
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


THREAD_KINDS = {"tf_": "tensorflow", "event_engine": "grpc_core", "grpc": "grpc_core"}  # thread name prefix -> kind


def thread_cpu_seconds(pid: int) -> dict:
    """CPU seconds of each live thread of `pid` (/proc/PID/task/TID/stat), keyed ``(tid, kind)``: ``tensorflow``
    (TF's kernel pools, ``tf_*``), ``grpc_core`` (gRPC's C event engine) or ``python`` (every thread Python started:
    the event loops, the batch scheduler; Python 3.11 does not name OS threads)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            kind = next((k for prefix, k in THREAD_KINDS.items() if name.startswith(prefix)), "python")
            out[(tid, kind)] = _stat_seconds(f"/proc/{pid}/task/{tid}/stat")
        except (FileNotFoundError, ProcessLookupError):  # a thread that ended meanwhile
            pass
    return out


def burst(call, clients: int, requests: int, latent, server_pid: int | None = None) -> dict:
    """Run `call(latent)` `requests` times in each of `clients` threads; latencies, throughput, and the CPU time
    per request of this process (the clients, or the in-process call) and of the server process."""
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

    own, server = time.process_time(), cpu_seconds(server_pid) if server_pid else 0.0
    threads = thread_cpu_seconds(server_pid) if server_pid else {}
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(worker, range(clients)))
    wall = time.perf_counter() - start
    lat = np.concatenate([r[0] for r in results]) * 1000
    p50, p99 = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
    out = {"requests": int(lat.size), "failed": int(sum(r[1] for r in results)), "wall_s": round(wall, 3),
           "throughput_rps": round(lat.size / wall, 1), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
           "p99_over_p50": round(p99 / p50, 2),
           "this_process_cpu_ms_per_request": round((time.process_time() - own) / lat.size * 1000, 3)}
    if server_pid:
        out["server_cpu_ms_per_request"] = round((cpu_seconds(server_pid) - server) / lat.size * 1000, 3)
        by_kind = {}
        for key, seconds in thread_cpu_seconds(server_pid).items():
            by_kind[key[1]] = by_kind.get(key[1], 0.0) + seconds - threads.get(key, 0.0)
        out["server_cpu_ms_per_request_by_thread"] = {k: round(v / lat.size * 1000, 3) for k, v in
                                                      sorted(by_kind.items())}
    return out


def in_process_worker(args) -> None:
    """``--in-process-worker``: the in-process burst in a fresh process whose TensorFlow runs with intra- and
    inter-op parallelism 1 (a setting can only be made before TF's first op); prints the burst's JSON."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    fn = tf.saved_model.load(args.in_process_worker).signatures["serving_default"]
    latent = np.random.default_rng(0).normal(size=(args.batch, args.latent_dim)).astype(np.float32)
    call = lambda z: fn(latent=tf.constant(z))["images"].numpy()  # noqa: E731
    for _ in range(20):
        call(latent)
    gc.freeze()
    print(json.dumps([burst(call, args.clients, args.requests, latent) for _ in range(args.rounds)]), flush=True)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def start_server(tmp: Path, *flags) -> tuple[subprocess.Popen, int, int]:
    grpc_port, rest_port = _free_port(), _free_port()
    server = subprocess.Popen([sys.executable, "-m", "serving", f"--port={grpc_port}", f"--rest_api_port={rest_port}",
                               "--model_name=m", f"--model_base_path={tmp / 'm'}", *flags], cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    line = server.stdout.readline()
    if "gRPC on port" not in line:
        raise RuntimeError(f"server did not start: {line!r}")
    return server, grpc_port, rest_port


def bad_requests(pid: int, rest_port: int, dim: int) -> dict:
    zeros = b",".join([b"0.0"] * dim)
    out = {}
    for what, body in BAD.items():
        if b"%s" in body:
            fill = b",".join([b"[" + zeros + b"]"] * 100_000) if what.startswith("batch") else zeros
            body = body.replace(b"%s", b"," + zeros[4:] if what == "latent 1e39" else fill)
        before = rss_mb(pid)
        start = time.perf_counter()
        req = urllib.request.Request(f"http://127.0.0.1:{rest_port}/v1/models/m:predict", data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, text = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read()
        out[what] = {"request_bytes": len(body), "status": status, "seconds": round(time.perf_counter() - start, 3),
                     "rss_growth_mb": round(rss_mb(pid) - before, 1), "error": json.loads(text).get("error", "")[:160]
                     if status != 200 else ""}
    return out


LABELS = {"rest": "REST (urllib, new connection per request) -> `python -m serving`",
          "grpc": "gRPC (official stub) -> `python -m serving`",
          "rest_batching": "REST -> `python -m serving --enable_batching`",
          "grpc_batching": "gRPC -> `python -m serving --enable_batching`",
          "in_process": "in-process `tf.saved_model.load`, 8 threads, TF's default threads",
          "in_process_parallelism_1": "in-process, 8 threads, intra/inter-op parallelism 1 (child process)",
          "in_process_1_thread": "in-process, 1 thread"}


def markdown(result: dict) -> str:
    """The README's table, from a result JSON: ``python bench/serving.py --markdown bench/results/serving.json``."""
    lines = ["| path | failed | req/s | p50 (ms) | p99 (ms) | p99 / p50 | server CPU ms/req | client CPU ms/req |",
             "|---|---|---|---|---|---|---|---|"]
    for key, label in LABELS.items():
        v = result["results"][key]
        server = v.get("server_cpu_ms_per_request")
        lines.append(f"| {label} | {v['failed']} / {v['requests']:,} | {v['throughput_rps']:,.0f} | "
                     f"{v['p50_ms']:.1f} | {v['p99_ms']:.1f} | {v['p99_over_p50']:.2f} | "
                     f"{'-' if server is None else f'{server:.2f}'} | {v['this_process_cpu_ms_per_request']:.2f} |")
    r, bad = result["results"], result["bad_requests"]
    gb = r["grpc_batching"]["throughput_rps"]
    reference = result.get("in_process_reference", "in_process_parallelism_1")
    ref = r[reference]["throughput_rps"]
    mark = {k: ", the reference" if k == reference else "" for k in ("in_process", "in_process_parallelism_1")}
    lines += ["", f"Event loop: {result.get('event_loop', 'asyncio')}. gRPC with batching / in-process: "
              f"{gb / r['in_process']['throughput_rps']:.2f}x (TF's default "
              f"threads{mark['in_process']}), {gb / r['in_process_parallelism_1']['throughput_rps']:.2f}x "
              f"(parallelism 1{mark['in_process_parallelism_1']}). "
              f"Bad requests: {len(bad)}, slowest answer {max(v['seconds'] for v in bad.values()):.2f} s, "
              f"largest RSS growth {max(v['rss_growth_mb'] for v in bad.values()):.1f} MB."]
    if "cpu_ceiling_rps" in result:  # results written before the by-thread split have neither
        split = r["grpc_batching"]["server_cpu_ms_per_request_by_thread"]
        ceiling = result["cpu_ceiling_rps"]["grpc_batching"]
        lines += ["", f"CPU ceiling of gRPC with batching: {result['machine']['cpus']} cores / "
                  f"({r['grpc_batching']['server_cpu_ms_per_request']:.2f} + "
                  f"{r['grpc_batching']['this_process_cpu_ms_per_request']:.2f}) ms = {ceiling:,.0f} req/s = "
                  f"{ceiling / ref:.2f}x the reference (measured: {gb / ref:.2f}x). Server CPU per request by thread "
                  "(ms): " + ", ".join(f"{k} {v:.2f}" for k, v in split.items()) + "."]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--batching-parameters", default=BATCHING, help="BatchingParameters text of the batching server")
    p.add_argument("--preset", default="dcgan_fashion_mnist")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "serving.json"))
    p.add_argument("--markdown", help="print the README table of this result JSON and exit")
    p.add_argument("--in-process-worker", help=argparse.SUPPRESS)  # an export path: see in_process_worker
    p.add_argument("--latent-dim", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.in_process_worker:
        return in_process_worker(args)
    if args.markdown:
        return print(markdown(json.loads(Path(args.markdown).read_text())))

    import tensorflow as tf

    import zoo
    from export import export_generator
    from serving.aio import loop_kind
    from serving.client import GrpcClient, RestClient

    tmp = Path(tempfile.mkdtemp(prefix="zoo-bench-serving-"))
    model = zoo.load_pretrained(args.preset)
    path = export_generator(model, tmp / "m")
    latent = np.random.default_rng(0).normal(size=(args.batch, model.latent_dim)).astype(np.float32)
    (tmp / "batching.config").write_text(args.batching_parameters)

    plain, grpc_port, rest_port = start_server(tmp)
    batched, bgrpc_port, brest_port = start_server(tmp, "--enable_batching", *BATCHING_SERVER_FLAGS,
                                                   f"--batching_parameters_file={tmp / 'batching.config'}")
    try:
        loaded = tf.saved_model.load(str(path)).signatures["serving_default"]
        clients = {"rest": RestClient(f"http://127.0.0.1:{rest_port}"), "grpc": GrpcClient(f"127.0.0.1:{grpc_port}"),
                   "rest_batching": RestClient(f"http://127.0.0.1:{brest_port}"),
                   "grpc_batching": GrpcClient(f"127.0.0.1:{bgrpc_port}")}
        paths = {name: (lambda c: lambda z: c.predict("m", {"latent": z})["images"])(c) for name, c in clients.items()}
        paths["in_process"] = lambda z: loaded(latent=tf.constant(z))["images"].numpy()
        want = paths["in_process"](latent)
        for name, call in paths.items():  # warm-up, and the answers agree
            for _ in range(20):
                call(latent)
            np.testing.assert_allclose(call(latent), want, atol=1e-5)
        gc.freeze()  # TensorFlow's objects out of the cyclic GC's scans: a gen-2 pass over them stalls every thread
        pids = {"rest": plain.pid, "grpc": plain.pid, "rest_batching": batched.pid, "grpc_batching": batched.pid}
        rounds = [{name: burst(call, args.clients, args.requests, latent, pids.get(name))
                   for name, call in paths.items()} for _ in range(args.rounds)]
        worker = subprocess.run([sys.executable, __file__, f"--in-process-worker={path}",
                                 f"--latent-dim={model.latent_dim}", f"--batch={args.batch}",
                                 f"--clients={args.clients}", f"--requests={args.requests}", f"--rounds={args.rounds}"],
                                cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2"),
                                capture_output=True, text=True, check=True)
        for r, b in zip(rounds, json.loads(worker.stdout.strip().splitlines()[-1])):
            r["in_process_parallelism_1"] = b
        results = {name: max((r[name] for r in rounds), key=lambda b: b["throughput_rps"]) for name in rounds[0]}
        results["in_process_1_thread"] = burst(paths["in_process"], 1, args.clients * args.requests // 4, latent)
        bad = bad_requests(plain.pid, rest_port, model.latent_dim)
        assert paths["rest"](latent).shape == want.shape  # still serving after them
        server_rss = {"plain": round(rss_mb(plain.pid), 1), "batching": round(rss_mb(batched.pid), 1)}
    finally:
        for server in (plain, batched):
            server.terminate()
            server.wait(30)
    reference = max(("in_process", "in_process_parallelism_1"), key=lambda k: results[k]["throughput_rps"])
    inproc = results[reference]["throughput_rps"]
    cores = os.cpu_count()
    ceiling = {name: round(cores * 1000 / (results[name]["server_cpu_ms_per_request"] +
                                           results[name]["this_process_cpu_ms_per_request"]), 1) for name in clients}
    ratios = {name: {"throughput_vs_in_process": round(results[name]["throughput_rps"] / inproc, 3),
                     "p99_over_p50": results[name]["p99_over_p50"],
                     "cpu_ceiling_vs_in_process": round(ceiling[name] / inproc, 3)} for name in clients}
    result = {"protocol": __doc__.split("\n\n", 2)[2].strip(), "preset": args.preset, "clients": args.clients,
              "requests_per_client": args.requests, "batch": args.batch, "rounds": args.rounds,
              "batching_parameters": args.batching_parameters, "batching_server_flags": BATCHING_SERVER_FLAGS,
              "event_loop": loop_kind(), "in_process_reference": reference, "results": results, "ratios": ratios,
              "cpu_ceiling_rps": ceiling,
              "bad_requests": bad,
              "server_rss_mb_at_end": server_rss,
              "machine": {"platform": platform.platform(), "cpus": cores, "gpu": "none"},
              "versions": {"tensorflow": tf.__version__, "python": platform.python_version()},
              "rounds_raw": rounds}
    failed = sum(r["failed"] for r in results.values())
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({"results": results, "ratios": ratios, "bad_requests": bad}, indent=1))
    if failed:
        sys.exit(f"{failed} requests failed or were dropped")


if __name__ == "__main__":
    main()
