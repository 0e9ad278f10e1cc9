"""``zoo`` command line (also ``python -m zoo``).

    zoo list
    zoo train NAME --dataset D [--config smoke|quick|default|...] [--set KEY=VALUE ...] [--epochs N] [--out DIR]
    zoo sample (--run DIR | --preset P) [--n 64] [--seed 0] [--attributes Bag,Trouser=2,0=-1] [--out grid.png]
    zoo evaluate (--run DIR | --preset P) [--metrics fd_classifier,kid_classifier] [--n 5000] [--jsonl FILE]
    zoo walk (--run DIR | --preset P) [--kind block|axis|lerp|slerp|variability]
    zoo export (--run DIR | --preset P) [--base DIR] [--version N] [--max-outputs N]
    zoo serve ...  (tensorflow_model_server's flags)

A usage error (a wrong model, dataset, config, metric, constructor key or attribute name, a missing run) exits
with status 2 and the list of valid choices; a failure while the command runs (inside ``fit``, say) exits 1 with
its traceback. TensorFlow's C++ start-up lines are hidden unless ``zoo --verbose COMMAND`` (with ``python -m
zoo`` they show: importing the package starts TensorFlow first; ``python -m zoo_app`` is the quiet form).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import traceback
from pathlib import Path

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
"""`trainers.precision.PRECISIONS`, here so that ``zoo train --help`` answers before TensorFlow starts (a test
keeps the two equal)."""


class UsageError(ValueError):
    """A command line that cannot run as given: exit status 2, with the reason and the valid choices."""


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _parser():
    p = argparse.ArgumentParser(prog="zoo", description="Latent Zoo: train, sample, evaluate and export "
                                "latent-space generative models.")
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="models, their configs, datasets and metrics")
    ls.add_argument("--presets", action="store_true", help="the presets with their cards' numbers (a markdown table)")

    t = sub.add_parser("train", help="train a zoo model with model.fit")
    t.add_argument("name", help="model name (zoo list)")
    t.add_argument("--dataset", required=True, help="dataset name (zoo list), or image_folder:PATH")
    t.add_argument("--config", default="default", help="named training config of the model (default: default)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a constructor kwarg over the config's (repeatable; VALUE is a Python literal: 3, 0.5, "
                        "true, (32, 64), 'hinge'); unknown keys fail listing the valid ones")
    t.add_argument("--epochs", type=_positive)
    t.add_argument("--batch-size", type=_positive, help="global batch size (default: the config's)")
    t.add_argument("--steps-per-epoch", type=_positive)
    t.add_argument("--strategy", default="auto", choices=["auto", "default", "mirrored", "multi_worker"])
    t.add_argument("--precision", default="auto", choices=PRECISIONS,  # trainers.precision.PRECISIONS
                   help="dtype policy; auto (default): mixed_bfloat16 on CPUs with bfloat16 units, mixed_float16 on "
                        "GPUs with tensor cores, float32 otherwise (the choice and its reason go to run.json)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--data-dir", help="directory holding the dataset's files")
    t.add_argument("--out", default=None, help="run directory (default: runs/NAME_DATASET_CONFIG)")
    t.add_argument("--no-export", action="store_true", help="skip the SavedModel export at the end")
    t.add_argument("--backup-every", default="60s", metavar="N|Ns|epoch",
                   help="back the run up every N steps, every N seconds (Ns) or every epoch; a killed run resumed "
                        "with the same command continues from the last backup exactly (default: 60s)")
    t.add_argument("--verbose", default="auto", choices=["auto", "0", "1", "2"])

    s = sub.add_parser("sample", help="write a sample grid from a trained run")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", help="run directory holding model.keras")
    src.add_argument("--preset", help="pretrained preset: a name (zoo list), a preset directory or a URL")
    s.add_argument("--n", type=_positive, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--attributes", help="LSC models: the attribute set, NAME or INDEX[=STRENGTH],... "
                   "(strength 1 by default; 2 stronger, -1 the inverse feature)")
    s.add_argument("--out", help="PNG path (default: RUN/samples.png)")

    e = sub.add_parser("evaluate", help="metrics of a trained run or a preset, with their protocol")
    src = e.add_mutually_exclusive_group(required=True)
    src.add_argument("--run")
    src.add_argument("--preset", help="pretrained preset: a name (zoo list), a preset directory or a URL")
    e.add_argument("--metrics", default="fd_classifier,kid_classifier,precision_recall")
    e.add_argument("--n", type=_positive, default=5000, help="number of fake (and at most real) samples")
    e.add_argument("--split", default="test", choices=["train", "test"])
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--jsonl", help="append records here (default: RUN/metrics.jsonl; with --preset, none)")

    w = sub.add_parser("walk", help="latent walks (block, axis, lerp, slerp) and per-block variability of a run")
    src = w.add_mutually_exclusive_group(required=True)
    src.add_argument("--run")
    src.add_argument("--preset", help="pretrained preset: a name (zoo list), a preset directory or a URL")
    w.add_argument("--kind", default="block", choices=["block", "axis", "lerp", "slerp", "variability"])
    w.add_argument("--block", default="1-8", help="1-based dimension range for --kind block (thesis 1-8, 9-16, ...)")
    w.add_argument("--axis", type=_positive, default=1, help="1-based coordinate for --kind axis")
    w.add_argument("--rows", type=_positive, default=4)
    w.add_argument("--steps", type=_positive, default=8, help="images per row for axis/lerp/slerp")
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--gif", action="store_true", help="write an animated GIF instead of a PNG grid")
    w.add_argument("--out", help="output path (default: RUN/walk_KIND....png|gif, or ./PRESET_walk_...); "
                   "variability prints JSON")

    x = sub.add_parser("export", help="export a run's generator as a TF Serving SavedModel")
    src = x.add_mutually_exclusive_group(required=True)
    src.add_argument("--run")
    src.add_argument("--preset", help="pretrained preset: a name (zoo list), a preset directory or a URL")
    x.add_argument("--base", "--out", dest="base", help="model base path (default: RUN/export; required with --preset)")
    x.add_argument("--version", type=_positive)
    x.add_argument("--max-outputs", type=_positive, default=256,
                   help="most images one request may generate or send (checked inside every signature; default 256)")

    sub.add_parser("serve", add_help=False, help="development TF Serving server: tensorflow_model_server's flags "
                   "(zoo serve --help)")
    return p


def _pretrained(spec):
    from zoo.pretrained import load_pretrained

    try:
        return load_pretrained(spec)
    except (ValueError, FileNotFoundError) as err:  # an unknown name lists the known ones
        raise UsageError(str(err)) from None


def _source(args):
    """``(model, run info, output directory)`` of ``--run`` or ``--preset``."""
    if getattr(args, "preset", None):
        model = _pretrained(args.preset)
        card = model.preset_card
        return model, {"dataset": card.get("dataset"), "config": card.get("config")}, Path(".")
    model, info = _load_run(args.run)
    return model, info, Path(args.run)


def parse_overrides(name: str, items: list[str]) -> dict:
    """``--set KEY=VALUE`` items -> constructor kwargs of model `name`: VALUE read as a Python literal (a bare word
    stays a string; true/false/none as Python's), then given the type of the constructor's default (an int where
    a float is expected, a list where a tuple is). A key the constructor does not take fails listing those it
    does."""
    import zoo

    defaults = zoo.registry.constructor_defaults(zoo.get_model_class(name))
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set {item!r}: expected KEY=VALUE, e.g. --set latent_dim=64.")
        if key == "seed":
            raise UsageError("--set seed: use --seed, which seeds the model and the data order together.")
        if key not in defaults:
            raise UsageError(f"--set {key}: {name} takes no {key!r}. Valid keys: {', '.join(sorted(defaults))}.")
        text = text.strip()
        words = {"true": True, "false": False, "none": None}
        try:
            value = words[text.lower()] if text.lower() in words else ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        default = defaults[key]
        if isinstance(default, bool) and not isinstance(value, bool):
            raise UsageError(f"--set {key}={text}: {key} is true or false.")
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        if isinstance(default, (int, float)) and not isinstance(default, bool) and isinstance(value, str):
            raise UsageError(f"--set {key}={text}: {key} is a number (default {default}).")
        out[key] = value
    return out


def _load_run(run):
    import keras

    import zoo  # noqa: F401  (registers the model classes)

    run = Path(run)
    path = run / "model.keras"
    if not path.exists():
        raise UsageError(f"{path} does not exist: --run must be a directory written by `zoo train`.")
    info = json.loads((run / "run.json").read_text()) if (run / "run.json").exists() else {}
    return keras.saving.load_model(path, compile=False), info


def _export(model, run, info, base=None, version=None, limits=None):
    """Export with a model card from the run's `info` (run.json), state.json and metrics.jsonl."""
    from export import export_generator

    state = json.loads((Path(run) / "state.json").read_text()) if (Path(run) / "state.json").exists() else {}
    metrics_file = Path(run) / "metrics.jsonl"
    card = {"dataset": info.get("dataset"), "config": info.get("config"), "training": state,
            "metrics": [json.loads(line) for line in metrics_file.read_text().splitlines()]
            if metrics_file.exists() else []}
    return export_generator(model, base or Path(run) / "export", version, model_card=card, limits=limits)


def cmd_list(args):
    import zoo
    from zoo import metrics

    if args.presets:
        from zoo import pretrained

        print(pretrained.presets_table())
        return
    print("models:")
    for name in zoo.list_models():
        print(f"  {name:24s} family={zoo.model_family(name):12s} configs={','.join(zoo.list_configs(name))}")
    print("datasets:\n  " + ", ".join(zoo.list_datasets()) + " (image_folder as image_folder:PATH)")
    print("metrics:\n  " + ", ".join(metrics.list_metrics()))
    print("presets (zoo sample --preset NAME, zoo.load_pretrained(NAME)):\n  " + ", ".join(zoo.list_presets()))


def cmd_train(args):
    import zoo
    from zoo_app.fit import train
    from zoo.visualize import save_grid

    try:
        zoo.get_model_class(args.name)
        zoo.get_config(args.name, args.config)
        zoo.dataset_info(args.dataset)
    except (ValueError, KeyError) as err:
        raise UsageError(str(err).strip("'\"")) from None
    overrides = parse_overrides(args.name, args.set)
    from trainers.resume import parse_every

    try:
        parse_every(args.backup_every)
    except ValueError as err:
        raise UsageError(str(err)) from None
    out = Path(args.out or f"runs/{args.name}_{args.dataset.replace(':', '_').replace('/', '_')}_{args.config}")
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)
    model, _ = train(args.name, args.dataset, config=args.config, epochs=args.epochs, out=out,
                     strategy=args.strategy, batch_size=args.batch_size, steps_per_epoch=args.steps_per_epoch,
                     precision=args.precision, seed=args.seed, verbose=verbose, data_dir=args.data_dir,
                     backup_every=args.backup_every, **overrides)
    from trainers.strategy import is_chief

    if not is_chief():
        return
    grid = save_grid(model.generate(64, seed=args.seed).numpy(), out / "samples.png")
    print(f"samples: {grid}")
    if not args.no_export:
        print(f"export: {_export(model, out, {'dataset': args.dataset, 'config': args.config})}")


def cmd_sample(args):
    import numpy as np

    from zoo.visualize import save_grid

    model = _pretrained(args.preset) if args.preset else _load_run(args.run)[0]
    if args.attributes is None:
        images = model.generate(args.n, seed=args.seed)
    elif not hasattr(model, "generate_attributes"):
        raise UsageError(f"--attributes needs a model with an attribute space (lsc_vae, lsc_gan); "
                         f"{getattr(model, 'zoo_name', type(model).__name__)} has none.")
    else:
        attributes = parse_attributes(args.attributes)
        try:
            model.attributes.weights(attributes)  # names and indices checked before anything runs
        except ValueError as err:
            raise UsageError(str(err)) from None
        images = model.generate_attributes(attributes, args.n, seed=args.seed)
    default = Path(args.run) / "samples.png" if args.run else Path(f"{Path(args.preset).name}_samples.png")
    print(save_grid(np.asarray(images), args.out or default))


def parse_attributes(text: str) -> dict:
    """``"Bag,Trouser=2,0=-1"`` -> ``{"Bag": 1.0, "Trouser": 2.0, 0: -1.0}`` (the model checks the names)."""
    out = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, _, strength = item.partition("=")
        try:
            value = float(strength) if strength else 1.0
        except ValueError:
            raise UsageError(f"--attributes item {item!r}: the strength after '=' must be a number.") from None
        out[int(name) if name.lstrip("-").isdigit() else name] = value
    return out


def cmd_walk(args):
    import numpy as np

    from zoo import walks

    model, _, where = _source(args)
    if args.kind == "variability":
        print(json.dumps(walks.block_variability(model, seed=args.seed)))
        return
    if args.kind == "block":
        try:
            lo, hi = (int(v) for v in args.block.split("-"))
        except ValueError:
            raise UsageError(f"--block must look like 1-8; got {args.block!r}.") from None
        if not 1 <= lo <= hi <= model.latent_dim:
            raise UsageError(f"--block {args.block} is outside 1-{model.latent_dim}; blocks of this model: "
                             f"{', '.join(walks.block_label(b) for b in walks.doubling_blocks(model.latent_dim))}.")
        latents, tag = walks.block_walk_latents(model, (lo - 1, hi), rows=args.rows, seed=args.seed), args.block
    elif args.kind == "axis":
        if args.axis > model.latent_dim:
            raise UsageError(f"--axis {args.axis} is outside 1-{model.latent_dim}.")
        latents = walks.axis_walk_latents(model, args.axis - 1, np.linspace(-0.125, 0.125, args.steps), args.rows,
                                          args.seed)
        tag = str(args.axis)
    else:
        latents, tag = walks.interpolation_latents(model, args.rows, args.steps, args.kind, args.seed), "pairs"
    suffix = "gif" if args.gif else "png"
    name = f"walk_{args.kind}_{tag}.{suffix}"
    path = args.out or (where / name if args.run else Path(f"{Path(args.preset).name}_{name}"))
    print(walks.save_walk(walks.render(model, latents), path, gif=args.gif))


def cmd_evaluate(args):
    from zoo import metrics

    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    for name in names:
        if name not in metrics.METRICS:
            try:
                metrics.compute(name)  # raises with the known names
            except ValueError as err:
                raise UsageError(str(err)) from None
    model, info, where = _source(args)
    if not info.get("dataset"):
        raise UsageError(f"{where}/run.json names no dataset; evaluate needs the run directory of `zoo train`.")
    jsonl = args.jsonl or (where / "metrics.jsonl" if args.run else None)
    for rec in metrics.evaluate_generator(model, info["dataset"], names, n_fake=args.n, n_real=args.n,
                                          split=args.split, seed=args.seed, jsonl=jsonl):
        print(rec)
    if jsonl:
        print(f"records appended to {jsonl}")


def cmd_export(args):
    from export import Limits, export_generator

    limits = Limits(max_outputs=args.max_outputs)
    if args.preset:
        if not args.base:
            raise UsageError("zoo export --preset needs --out DIR (the model base path to serve).")
        model = _pretrained(args.preset)
        card = {k: model.preset_card.get(k) for k in ("dataset", "config", "training", "metrics")}
        print(export_generator(model, args.base, args.version, model_card={**card, "preset": model.preset_card["name"]},
                               limits=limits))
        return
    model, info = _load_run(args.run)
    print(_export(model, args.run, info, args.base, args.version, limits))


COMMANDS = {"list": cmd_list, "train": cmd_train, "sample": cmd_sample, "evaluate": cmd_evaluate, "walk": cmd_walk,
            "export": cmd_export}


def quiet_tensorflow_start() -> None:
    """Import TensorFlow and run one op with fd 2 pointed at /dev/null: its C++ start-up lines (CUDA probing on a CPU
    machine, oneDNN, CPU features) are written before absl's logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` does
    not reach them. A Python exception still propagates, and fd 2 is restored either way."""
    if "tensorflow" in sys.modules:  # already started (in-process callers, tests): nothing left to hide
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.constant(0) + 1
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--verbose"]:  # TensorFlow's start-up lines too
        argv = argv[1:]
    else:
        quiet_tensorflow_start()
    if argv[:1] == ["serve"]:  # tensorflow_model_server's flags, parsed by serving.server
        from serving.server import main as serve

        return serve(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except (UsageError, FileExistsError) as err:
        parser.exit(2, f"zoo {args.command}: error: {err}\n")
    except Exception:  # the command ran and failed: the traceback says where (exit 1, not a usage error)
        traceback.print_exc()
        print(f"zoo {args.command}: failed (traceback above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
