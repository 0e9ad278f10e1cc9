"""``zoo`` command line (also ``python -m zoo``).

    zoo list
    zoo train NAME --dataset D [--config smoke|quick|default|...] [--epochs N] [--strategy S] [--out DIR]
    zoo sample --run DIR [--n 64] [--seed 0] [--attributes Bag,Trouser=2,0=-1] [--out grid.png]
    zoo evaluate --run DIR [--metrics fd_classifier,kid_classifier] [--n 5000] [--jsonl FILE]
    zoo export --run DIR [--base DIR] [--version N]

A wrong model, dataset, config or metric name exits with status 2 and the list of valid ones.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _parser():
    p = argparse.ArgumentParser(prog="zoo", description="Latent Zoo: train, sample, evaluate and export "
                                "latent-space generative models.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="models, their configs, datasets and metrics")

    t = sub.add_parser("train", help="train a zoo model with model.fit")
    t.add_argument("name", help="model name (zoo list)")
    t.add_argument("--dataset", required=True, help="dataset name (zoo list), or image_folder:PATH")
    t.add_argument("--config", default="default", help="named training config of the model (default: default)")
    t.add_argument("--epochs", type=_positive)
    t.add_argument("--batch-size", type=_positive, help="global batch size (default: the config's)")
    t.add_argument("--steps-per-epoch", type=_positive)
    t.add_argument("--strategy", default="auto", choices=["auto", "default", "mirrored", "multi_worker"])
    t.add_argument("--precision", default="float32", choices=["float32", "mixed_float16", "mixed_bfloat16"])
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--data-dir", help="directory holding the dataset's files")
    t.add_argument("--out", default=None, help="run directory (default: runs/NAME_DATASET_CONFIG)")
    t.add_argument("--no-export", action="store_true", help="skip the SavedModel export at the end")
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

    e = sub.add_parser("evaluate", help="metrics of a trained run, with their protocol")
    e.add_argument("--run", required=True)
    e.add_argument("--metrics", default="fd_classifier,kid_classifier,precision_recall")
    e.add_argument("--n", type=_positive, default=5000, help="number of fake (and at most real) samples")
    e.add_argument("--split", default="test", choices=["train", "test"])
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--jsonl", help="append records here (default: RUN/metrics.jsonl)")

    w = sub.add_parser("walk", help="latent walks (block, axis, lerp, slerp) and per-block variability of a run")
    w.add_argument("--run", required=True)
    w.add_argument("--kind", default="block", choices=["block", "axis", "lerp", "slerp", "variability"])
    w.add_argument("--block", default="1-8", help="1-based dimension range for --kind block (thesis 1-8, 9-16, ...)")
    w.add_argument("--axis", type=_positive, default=1, help="1-based coordinate for --kind axis")
    w.add_argument("--rows", type=_positive, default=4)
    w.add_argument("--steps", type=_positive, default=8, help="images per row for axis/lerp/slerp")
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--gif", action="store_true", help="write an animated GIF instead of a PNG grid")
    w.add_argument("--out", help="output path (default: RUN/walk_KIND....png|gif); variability prints JSON")

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

    return load_pretrained(spec)


def _load_run(run):
    import keras

    import zoo  # noqa: F401  (registers the model classes)

    run = Path(run)
    path = run / "model.keras"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: --run must be a directory written by `zoo train`.")
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

    print("models:")
    for name in zoo.list_models():
        print(f"  {name:24s} family={zoo.model_family(name):12s} configs={','.join(zoo.list_configs(name))}")
    print("datasets:\n  " + ", ".join(zoo.list_datasets()) + " (image_folder as image_folder:PATH)")
    print("metrics:\n  " + ", ".join(metrics.list_metrics()))
    print("presets (zoo sample --preset NAME, zoo.load_pretrained(NAME)):\n  " + ", ".join(zoo.list_presets()))


def cmd_train(args):
    import zoo
    from trainers.fit import train
    from zoo.visualize import save_grid

    zoo.get_model_class(args.name)
    zoo.get_config(args.name, args.config)
    zoo.dataset_info(args.dataset)
    out = Path(args.out or f"runs/{args.name}_{args.dataset.replace(':', '_').replace('/', '_')}_{args.config}")
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)
    model, _ = train(args.name, args.dataset, config=args.config, epochs=args.epochs, out=out,
                     strategy=args.strategy, batch_size=args.batch_size, steps_per_epoch=args.steps_per_epoch,
                     precision=args.precision, seed=args.seed, verbose=verbose, data_dir=args.data_dir)
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
        raise ValueError(f"--attributes needs a model with an attribute space (lsc_vae, lsc_gan); "
                         f"{getattr(model, 'zoo_name', type(model).__name__)} has none.")
    else:
        images = model.generate_attributes(parse_attributes(args.attributes), args.n, seed=args.seed)
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
            raise ValueError(f"--attributes item {item!r}: the strength after '=' must be a number.") from None
        out[int(name) if name.lstrip("-").isdigit() else name] = value
    return out


def cmd_walk(args):
    import numpy as np

    from zoo import walks

    model, _ = _load_run(args.run)
    if args.kind == "variability":
        print(json.dumps(walks.block_variability(model, seed=args.seed)))
        return
    if args.kind == "block":
        try:
            lo, hi = (int(v) for v in args.block.split("-"))
        except ValueError:
            raise ValueError(f"--block must look like 1-8; got {args.block!r}.") from None
        if not 1 <= lo <= hi <= model.latent_dim:
            raise ValueError(f"--block {args.block} is outside 1-{model.latent_dim}; blocks of this model: "
                             f"{', '.join(walks.block_label(b) for b in walks.doubling_blocks(model.latent_dim))}.")
        latents, tag = walks.block_walk_latents(model, (lo - 1, hi), rows=args.rows, seed=args.seed), args.block
    elif args.kind == "axis":
        if args.axis > model.latent_dim:
            raise ValueError(f"--axis {args.axis} is outside 1-{model.latent_dim}.")
        latents = walks.axis_walk_latents(model, args.axis - 1, np.linspace(-0.125, 0.125, args.steps), args.rows,
                                          args.seed)
        tag = str(args.axis)
    else:
        latents, tag = walks.interpolation_latents(model, args.rows, args.steps, args.kind, args.seed), "pairs"
    suffix = "gif" if args.gif else "png"
    path = args.out or Path(args.run) / f"walk_{args.kind}_{tag}.{suffix}"
    print(walks.save_walk(walks.render(model, latents), path, gif=args.gif))


def cmd_evaluate(args):
    from zoo import metrics

    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    for name in names:
        if name not in metrics.METRICS:
            metrics.compute(name)  # raises with the known names
    model, info = _load_run(args.run)
    if "dataset" not in info:
        raise ValueError(f"{args.run}/run.json names no dataset; evaluate needs the run directory of `zoo train`.")
    jsonl = args.jsonl or Path(args.run) / "metrics.jsonl"
    for rec in metrics.evaluate_generator(model, info["dataset"], names, n_fake=args.n, n_real=args.n,
                                          split=args.split, seed=args.seed, jsonl=jsonl):
        print(rec)
    print(f"records appended to {jsonl}")


def cmd_export(args):
    from export import Limits, export_generator

    limits = Limits(max_outputs=args.max_outputs)
    if args.preset:
        if not args.base:
            raise ValueError("zoo export --preset needs --out DIR (the model base path to serve).")
        model = _pretrained(args.preset)
        card = {k: model.preset_card.get(k) for k in ("dataset", "config", "training", "metrics")}
        print(export_generator(model, args.base, args.version, model_card={**card, "preset": model.preset_card["name"]},
                               limits=limits))
        return
    model, info = _load_run(args.run)
    print(_export(model, args.run, info, args.base, args.version, limits))


COMMANDS = {"list": cmd_list, "train": cmd_train, "sample": cmd_sample, "evaluate": cmd_evaluate, "walk": cmd_walk,
            "export": cmd_export}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:  # tensorflow_model_server's flags, parsed by serving.server
        from serving.server import main as serve

        return serve(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        parser.exit(2, f"zoo {args.command}: error: {err}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
