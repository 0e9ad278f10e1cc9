"""The development server on uvloop against asyncio's own event loop: `bench/serving.py` run `--pairs` times for
each, alternating (asyncio first in each pair), on otherwise identical settings.

    python bench/serving_loops.py [--pairs 2] [--rounds 3] [--out bench/results/serving_loops.json]

Each run is a whole `bench/serving.py` (its protocol is in every run's JSON, kept under ``runs``); the servers
inherit ``ZOO_SERVING_LOOP`` from this process, so only their event loops differ. ``summary`` gives, per path, each
run's throughput / in-process ratio and the servers' Python-thread CPU per request. Run on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("asyncio", "uvloop")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3, help="bench/serving.py's --rounds")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "serving_loops.json"))
    args = p.parse_args(argv)
    runs = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.pairs):
            for kind in KINDS:
                out = Path(tmp) / f"{kind}_{i}.json"
                subprocess.run([sys.executable, str(ROOT / "bench" / "serving.py"), f"--out={out}",
                                f"--rounds={args.rounds}"], cwd=ROOT, env=dict(os.environ, ZOO_SERVING_LOOP=kind),
                               check=True, stdout=subprocess.DEVNULL)
                run = json.loads(out.read_text())
                if run["event_loop"] != kind:
                    sys.exit(f"asked for {kind} but the servers ran {run['event_loop']} (is uvloop installed?)")
                runs[kind].append(run)
    summary = {kind: {path: {"throughput_vs_in_process": [r["ratios"][path]["throughput_vs_in_process"] for r in rs],
                             "server_python_cpu_ms_per_request": [
                                 r["results"][path]["server_cpu_ms_per_request_by_thread"]["python"] for r in rs]}
                      for path in rs[0]["ratios"]} for kind, rs in runs.items()}
    result = {"protocol": __doc__.split("\n\n", 2)[2].strip(), "pairs": args.pairs, "summary": summary,
              "machine": runs["uvloop"][0]["machine"], "runs": runs}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
