"""The study scripts' one way of writing numbers into the docs: each table replaces the text between
``<!-- begin:KEY -->`` and ``<!-- end:KEY -->`` in a markdown file, so the prose around it stays hand-written; and
their shared helpers: seed summaries (`seed_groups`, `mean_std`, `seed_stats`), a run's last logged epoch and the
``train|report [--out D] [--only a,b]`` command line (`study_main`), and the commit the numbers come from
(`git_commit`)."""
from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

import numpy as np


def git_commit() -> str:
    """The short hash of the checkout's HEAD ("" outside a git checkout)."""
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                          text=True).stdout.strip()


def fill(md: Path, tables: dict) -> None:
    """Replace each marked block ``KEY`` of `md` with ``tables[KEY]``."""
    text = Path(md).read_text()
    for key, table in tables.items():
        text = re.sub(rf"(<!-- begin:{key} -->\n).*?(<!-- end:{key} -->)", lambda m: m.group(1) + table + "\n" + m.group(2),
                      text, flags=re.S)
    Path(md).write_text(text)


def run_group(name: str) -> str:
    """A study's run name ``GROUP_s<seed>`` -> ``GROUP``."""
    return name.rsplit("_s", 1)[0]


def seed_groups(res: dict, keys) -> dict:
    """Runs named ``GROUP_s<seed>`` -> ``{GROUP: {"seeds": n, key: {"mean", "std" (sample)}}}`` for every group
    with more than one measured run and every key its runs have."""
    out = {}
    for group in sorted({run_group(name) for name in res if "_s" in name}):
        runs = [r for n, r in res.items() if run_group(n) == group]
        if len(runs) < 2:
            continue
        out[group] = {"seeds": len(runs)}
        for key in keys:
            v = [r[key] for r in runs if key in r]
            if v:
                out[group][key] = {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1))}
    return out


def seed_stats(values) -> dict:
    """``{"mean", "std" (sample; None for one value), "values"}`` of one metric over a group's seeds."""
    v = np.array(values, dtype=float)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else None, "values": v.tolist()}


def pct(v) -> str:
    return f"{100 * v:.1f}%"


def mean_std(group: dict, key: str, as_pct: bool = True) -> str:
    """``"mean ± std"`` of `key` in a `seed_groups` entry (percent, or two decimals); empty when it is missing."""
    if key not in group:
        return ""
    f = pct if as_pct else (lambda v: f"{v:.2f}")
    return f"{f(group[key]['mean'])} ± {f(group[key]['std'])}"


def last_epoch(run: Path) -> dict:
    """The last row of a run's ``history.csv`` (the fit recipe's CSV logger), as floats."""
    import csv

    rows = list(csv.DictReader(open(Path(run) / "history.csv")))
    return {k: float(v) for k, v in rows[-1].items() if v not in ("NA", "")}


def train_runs(model: str, runs: dict, out: Path, only=None, **kwargs) -> None:
    """Train every run of a study's ``RUNS`` (name -> (dataset, config, overrides, seed)) that has no
    ``model.keras`` under `out` yet (a killed one resumes from its backup), with `zoo_app.fit.train`."""
    from zoo_app.fit import train

    for name, (dataset, config, overrides, seed) in runs.items():
        run = Path(out) / name
        if (only and name not in only) or (run / "model.keras").exists():
            continue
        print(f"== {name}: {dataset}, config {config}, {overrides}, seed {seed}", flush=True)
        train(model, dataset, config=config, out=run, seed=seed, verbose=2, **kwargs, **overrides)


def finished_runs(runs: dict, out: Path, only=None):
    """``(name, (dataset, config, overrides, seed), model, (x_test, y_test), classifier)`` for every run of a
    study's ``RUNS`` (name -> (dataset, config, overrides, seed)) that has a saved ``model.keras`` under `out`
    (and is in `only`, when given); test arrays at 32x32 and the project classifier loaded once per dataset."""
    import keras

    import zoo
    from zoo.metrics import ClassifierFeatures

    tests, nets = {}, {}
    for name, spec in runs.items():
        run = Path(out) / name
        if (only and name not in only) or not (run / "model.keras").exists():
            continue
        dataset = spec[0]
        if dataset not in tests:
            tests[dataset] = zoo.load_arrays(dataset, "test", image_size=32)
            nets[dataset] = ClassifierFeatures(dataset)
        yield name, spec, keras.saving.load_model(run / "model.keras"), tests[dataset], nets[dataset]


def study_main(doc: str, default_out: Path, train_all, report, argv=None) -> None:
    """``train`` (every run of the study not yet finished, resuming killed ones) or ``report`` into the docs, over
    the runs under ``--out``; ``--only a,b`` restricts either to those runs."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("command", choices=("train", "report"))
    p.add_argument("--out", default=str(default_out))
    p.add_argument("--only", default="", help="comma-separated run names (default: every run)")
    a = p.parse_args(argv)
    only = set(filter(None, a.only.split(","))) or None
    (train_all if a.command == "train" else report)(Path(a.out), only)


def stats_text(stats: dict, digits: int = 2) -> str:
    """``"mean ± std"`` of a `seed_stats` dict (the mean alone for one seed)."""
    return f"{stats['mean']:.{digits}f}" + (f" ± {stats['std']:.{digits}f}" if stats["std"] is not None else "")


def train_report_cli(doc: str, runs, train_one, report, default_out: str) -> None:
    """A study's command line: ``train [--runs NAME,...] [--out DIR]`` runs ``train_one(name, out)`` for each
    named run (default: all of `runs`); ``report [--out DIR]`` runs ``report(out)``."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("command", choices=("train", "report"))
    p.add_argument("--runs", help="comma-separated run names (default: all of RUNS)")
    p.add_argument("--out", default=default_out)
    args = p.parse_args()
    out = Path(args.out)
    if args.command == "train":
        for name in (args.runs.split(",") if args.runs else runs):
            print("run", name, train_one(name, out), flush=True)
    else:
        report(out)

