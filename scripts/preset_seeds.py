"""Do the presets' recipes hold at other seeds? (issue 20: every GAN image preset fd_classifier <= 10, recall >= 0.3)

    python scripts/preset_seeds.py train  [--runs NAME,...] [--out /work/runs/preset_seeds]   # trains what is missing
    python scripts/preset_seeds.py report [--out /work/runs/preset_seeds]   # docs/results/preset_seeds.json + table

A preset is one training run (seed 0). Each recipe in RECIPES is trained at seeds 1 and 2 (and 0, for a recipe
that replaces the preset's: its seed-0 run becomes the preset) with
``zoo_app.fit.train`` (the preset's model, dataset, config and precision; the generator's moving average written
into the generator when fit ends, as the preset ships it) and measured on the card's protocol: fd_classifier and
improved precision / recall (k = 3) in the features of ``zoo-cnn-<dataset>-v1`` (not Inception), 2,000 ``generate``
samples against 2,000 test images drawn with seed 0. Seed 0 of the others is the preset's own card (the card it had
under that recipe, once replaced). A run of a longer recipe (EXTENDS) continues the shorter recipe's finished run
at the same seed from its last end-of-epoch backup (exact resume: the uninterrupted longer run). Recipes trained by
scripts/ema_study.py (the growing models and dcgan: ``*_long_s{1,2}``) are reported there (docs/results/ema.md)
and quoted in the table from docs/results/ema.json at its momentum 0.998, the presets' average; the `sngan`
presets' (``*_reparam_s{1,2}``) by scripts/sngan_study.py, quoted from docs/results/candidates/sngan_recipes.json.
"""
from __future__ import annotations

import json
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEEDS = (1, 2)
CARD = "card"  # in a recipe's seeds: its seed 0 is the preset's card (the preset was built from that recipe's run)
# run group: (preset, model, dataset, config, precision, seeds: the ones trained here, and CARD)
RECIPES = {"lsr_gan": ("lsr_gan_fashion_mnist", "lsr_gan", "fashion_mnist", "fashion32_dcgan_long", "float32",
                       (CARD,) + SEEDS),
           # the recipes that replace the two that failed at seed 1 above; seed 0 is trained here and becomes the
           # preset (scripts/build_presets.py)
           "lsr_gan_longer": ("lsr_gan_fashion_mnist", "lsr_gan", "fashion_mnist", "fashion32_dcgan_longer",
                              "float32", (0,) + SEEDS),
           # stopped after seed 1 (9.60, against fashion32_long's 10.57) for fashion32_r1_long, which adds what
           # lsr_gan_longer's stage 2 has
           "dcgan_b64": ("dcgan_fashion_mnist", "dcgan", "fashion_mnist", "fashion32_b64_long", "auto", (1,)),
           "dcgan_r1": ("dcgan_fashion_mnist", "dcgan", "fashion_mnist", "fashion32_r1_long", "auto",
                        (0,) + SEEDS),
           # the conditioning model's presets (trained by build_presets' recipe, seed 0 only until here)
           "lscc_fashion": ("lsc_conditioned_gan_fashion_mnist", "lsc_conditioned_gan", "fashion_mnist",
                            "fashion32_long", "auto", (CARD,) + SEEDS),
           "lscc_mnist": ("lsc_conditioned_gan_mnist", "lsc_conditioned_gan", "mnist", "fashion32_long", "auto",
                          (CARD,) + SEEDS)}
# group: shorter group of the same recipe whose run at the same seed is continued, when its end-of-epoch backup is
# there (``trainers.resume.ExactBackup``: the batches, noise and optimizer state, moving average included, of the
# uninterrupted longer run), instead of training its first epochs again
EXTENDS = {"lsr_gan_longer": "lsr_gan"}
# presets whose seeds 1, 2 are scripts/ema_study.py runs: preset -> ema.json run group
EMA_STUDY = {f"{m}_fashion_mnist": f"{m}_long" for m in ("dcgan", "bgan", "bggan", "cggan", "lggan", "clggan")}
# presets whose seeds 1, 2 are scripts/sngan_study.py runs: preset -> (sngan_recipes.json run group, config)
SNGAN_STUDY = {f"sngan_{d}": (f"{d}_reparam", "fashion32_reparam_long") for d in ("fashion_mnist", "mnist")}
RUNS = {f"{group}_s{seed}": (*spec[:5], seed) for group, spec in RECIPES.items() for seed in spec[5] if seed != CARD}
OUT = ROOT / "docs" / "results" / "preset_seeds.json"


def train_one(name: str, out: Path) -> Path:
    from zoo_app.fit import train

    _, model_name, dataset, config, precision, seed = RUNS[name]
    run = out / name
    if (run / "result.json").exists():
        return run
    shorter = extended_from(name, out)
    if shorter is not None and not (run / "backup").exists():
        shutil.copytree(out / shorter / "backup", run / "backup")
    start = time.perf_counter()
    model, _ = train(model_name, dataset, config=config, out=run, seed=seed, verbose=2, precision=precision)
    wall = time.perf_counter() - start
    result = measure(model, dataset)
    (run / "result.json").write_text(json.dumps({**result, "wall_seconds": wall}, indent=1))
    return run


def extended_from(name: str, out: Path) -> str | None:
    """The finished shorter run (EXTENDS) that run `name` continues, or None: it trains from the start."""
    group, seed = name.rsplit("_s", 1)
    shorter = f"{EXTENDS[group]}_s{seed}" if group in EXTENDS else None
    return shorter if shorter and (out / shorter / "result.json").exists() else None


def measure(model, dataset) -> dict:
    from zoo import metrics

    fd, pr = metrics.evaluate_generator(model, dataset, ("fd_classifier", "precision_recall"), n_fake=2000,
                                        n_real=2000, split="test", seed=0)
    return {"fd_classifier": fd.value, "precision": pr.value, "recall": pr.details["recall"],
            "protocol": fd.protocol}


def card(row: dict, config: str, previous: dict | None) -> dict:
    """fd_classifier / precision / recall on a preset's model card (`row`, `zoo.pretrained.preset_summary`; seed 0)
    while the preset is built from `config`; once the preset moved to another recipe, what its card said under this
    one (`previous`, the committed JSON's seed-0 entry)."""
    if row["config"] == config:
        return {k: row[k] for k in ("fd_classifier", "precision", "recall")}
    if previous is None:
        raise ValueError(f"{row['name']}'s card is {row['config']}, not {config}, and {OUT} keeps no seed-0 entry "
                         "for it.")
    return previous


def report(out: Path) -> dict:
    from markdown_tables import fill, seed_stats, stats_text
    from zoo.pretrained import preset_summary

    before = json.loads(OUT.read_text())["rows"] if OUT.exists() else {}
    presets = {spec[0] for spec in RECIPES.values()} | set(EMA_STUDY) | set(SNGAN_STUDY)
    cards = {p: preset_summary(p) for p in presets}  # read once
    rows = {}
    for group, (preset, model_name, dataset, config, precision, seeds) in RECIPES.items():
        runs = []
        for s in seeds:
            if s != CARD and (out / f"{group}_s{s}" / "result.json").exists():
                runs.append(json.loads((out / f"{group}_s{s}" / "result.json").read_text()))
                shorter = extended_from(f"{group}_s{s}", out)
                if shorter:  # its wall clock: the shorter run's and the continuation's
                    done = json.loads((out / shorter / "result.json").read_text())["wall_seconds"]
                    runs[-1].update(extended_from=shorter, wall_seconds=runs[-1]["wall_seconds"] + done)
        first = [card(cards[preset], config, before.get(group, {}).get("per_seed", [None])[0])] if CARD in seeds else []
        if runs:
            rows[group] = {"preset": preset, "config": config, "recipe": f"{model_name} {config} on {dataset}, "
                           f"{precision}", "source": "this script", "per_seed": first + runs}
    ema = json.loads((ROOT / "docs" / "results" / "ema.json").read_text())["runs"]
    for preset, group in EMA_STUDY.items():
        runs = [ema[f"{group}_s{s}"]["by_momentum"]["0.998"] for s in (0,) + SEEDS if f"{group}_s{s}" in ema]
        rows[group] = {"preset": preset, "config": "fashion32_long", "recipe": f"scripts/ema_study.py {group}_s*, "
                       "momentum 0.998", "source": "ema.json", "per_seed": runs}
    sngan = json.loads((ROOT / "docs" / "results" / "candidates" / "sngan_recipes.json").read_text())["runs"]
    for preset, (group, config) in SNGAN_STUDY.items():
        runs = [sngan[f"{group}_s{s}"] for s in SEEDS if f"{group}_s{s}" in sngan]
        rows[group] = {"preset": preset, "config": config, "recipe": f"scripts/sngan_study.py {group}_s*",
                       "source": "sngan_recipes.json", "per_seed": [card(cards[preset], config, None)] + runs}
    for row in rows.values():
        row["ships"] = cards[row["preset"]]["config"] == row["config"]
        row.update({k: seed_stats([r[k] for r in row["per_seed"]]) for k in ("fd_classifier", "precision", "recall")})
    result = {"protocol": __doc__.split("\n\n", 2)[2].strip().replace("\n", " "),
              "machine": f"{platform.machine()}, 2 CPU cores, no GPU", "rows": rows}
    OUT.write_text(json.dumps(result, indent=1, default=str))
    table = ["| preset | recipe | shipped | seeds | fd_classifier per seed | fd_classifier | recall per seed | "
             "worst seed vs the targets (fd <= 10, recall >= 0.3) |", "|---|---|---|---|---|---|---|---|"]
    for row in rows.values():
        fds, recs = [r["fd_classifier"] for r in row["per_seed"]], [r["recall"] for r in row["per_seed"]]
        verdict = "holds" if max(fds) <= 10 and min(recs) >= 0.3 else "**fails**"
        table.append(f"| {row['preset']} | {row['recipe']} | {'yes' if row['ships'] else 'no'} | "
                     f"{len(fds)} | {' / '.join(f'{v:.2f}' for v in fds)} | {stats_text(row['fd_classifier'])} | "
                     f"{' / '.join(f'{v:.2f}' for v in recs)} | {verdict} (fd {max(fds):.2f}, recall "
                     f"{min(recs):.2f}) |")
    fill(ROOT / "README.md", {"preset_seeds": "\n".join(table)})
    print("\n".join(table))
    return result


def main():
    from markdown_tables import train_report_cli

    train_report_cli(__doc__, RUNS, train_one, report, "/work/runs/preset_seeds")


if __name__ == "__main__":
    main()
