"""docs/gallery.md from the shipped presets (never edited by hand): per preset its card's numbers, a sample grid
and a strip of what the method is for.

    python scripts/gallery.py            # every preset; writes docs/gallery.md and docs/gallery/*.png

Everything is drawn from the loaded preset with fixed seeds, so a rerun writes the same files:

* samples: ``model.generate(64, seed=0)``, 8 x 8.
* strip, by what the model does:
    - growing models (a stage ``plan``): block random walks (thesis 7.2.1, `zoo.walks.block_walk_latents`) of the
      first block (1-8) and of the last (e.g. 33-64), 3 rows each;
    - LSC models (``edit``): one row per source class c (classes 0-4), z ~ N(n_c, I) then eq. 8's
      ``z - n_c + n_j`` for every class j (column j);
    - LatentGAN-AE (``generate_from_codes``): one row per categorical value k, 8 noise draws, continuous codes 0;
    - the conditioning model (``generate_like``): per row a real test image (first column) and 7
      ``generate_like`` samples (seeds 0-6);
    - 2-D point generators (the Swiss roll): latent sweeps (`scripts/growing_swiss_roll.py`'s figure);
    - everything else: linear interpolations between two prior draws (`zoo.walks.interpolation_latents`).
* numbers: `zoo.pretrained.presets_table` (the table ``zoo list --presets`` prints), from the cards; the same
  table goes into the README between its ``presets`` markers.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import zoo  # noqa: E402
from zoo import pretrained, walks  # noqa: E402
from zoo.visualize import save_grid  # noqa: E402


def point_sweeps(model, path):
    """2-D generators: per latent coordinate, lines of points with the other coordinate fixed (thesis figure 8)."""
    from growing_swiss_roll import plot

    plot(model, path, "preset")
    return "latent sweeps: colour = the swept coordinate, one line per value of the other"


def strip(model, card) -> tuple[np.ndarray, str]:
    """``([rows, cols, H, W, C] images, caption)`` of what `model` is for."""
    if hasattr(model, "plan"):
        blocks = walks.doubling_blocks(model.latent_dim)
        rows = [walks.render(model, walks.block_walk_latents(model, b, rows=3, seed=0))
                for b in (blocks[0], blocks[-1])]
        return np.concatenate(rows), (f"block random walks (thesis 7.2.1): rows 1-3 resample block "
                                      f"{walks.block_label(blocks[0])}, rows 4-6 block {walks.block_label(blocks[-1])}")
    if hasattr(model, "edit") and hasattr(model, "attributes"):
        k = model.attributes.size
        out = []
        for c in range(min(5, k)):
            z = model.attribute_latent([c], 1, seed=c).numpy()
            row = [model.edit(z, add=[j], remove=[c]) for j in range(k)]
            out.append(walks.render(model, np.concatenate([np.asarray(r) for r in row])))
        return np.stack(out), ("eq. 8 edits: row c starts from z ~ N(n_c, I); column j is z - n_c + n_j "
                               "(column c is the unedited sample)")
    if hasattr(model, "generate_from_codes"):
        k = model.codes.categorical[0]
        cat = [np.repeat(np.arange(k), 8)]
        noise = np.tile(np.random.default_rng(0).normal(size=(8, model.codes.noise_dim)), (k, 1)).astype(np.float32)
        images = np.asarray(model.generate_from_codes(cat, noise=noise))
        return images.reshape((k, 8) + images.shape[1:]), ("code sweeps: row k is categorical code k, columns are "
                                                           "8 noise draws shared by all rows (continuous codes 0)")
    if hasattr(model, "generate_like"):
        x, _ = zoo.load_arrays(card["dataset"], "test", image_size=model.image_size)
        rows = []
        for i in range(6):
            like = [np.asarray(model.generate_like(x[i:i + 1], seed=s)) for s in range(7)]
            rows.append(np.concatenate([x[i:i + 1]] + like))
        return np.stack(rows), "generate_like: the first column is a real test image, then 7 samples like it"
    return (walks.render(model, walks.interpolation_latents(model, rows=4, steps=10, seed=0)),
            "linear interpolations between two prior draws")


def main():
    docs = ROOT / "docs"
    out = docs / "gallery"
    out.mkdir(parents=True, exist_ok=True)
    names = pretrained.list_presets()
    lines = ["# Gallery", "", "Written by `python scripts/gallery.py` from the shipped presets (`zoo.list_presets()`); "
             "`zoo list --presets` prints the table below. The numbers are the presets' model cards: fd_classifier "
             "is the Frechet distance in the zoo classifier's features (`zoo-cnn-<dataset>-v1`, not Inception, so "
             "not FID), 2,000 `generate` samples against 2,000 test images drawn with seed 0; precision and "
             "recall are improved precision / recall (k = 3) in the same features; the method's own number is "
             "the card's record, with its protocol in the card. Steps are optimizer steps of the generator; the "
             "wall clock is the preset's fit on the 2-core VM as its card records it (the card's "
             "`training.wall_clock` says how, where it was timed afterwards).", "",
             pretrained.presets_table(names), ""]
    for name in names:
        model = zoo.load_pretrained(name)
        card = model.preset_card
        save_grid(np.asarray(model.generate(64, seed=0)), out / f"{name}_samples.png", cols=8)
        if zoo.dataset_info(card["dataset"]).kind == "points":
            caption = point_sweeps(model, out / f"{name}_strip.png")
        else:
            images, caption = strip(model, card)
            walks.save_walk(images, out / f"{name}_strip.png")
        row = pretrained.preset_summary(name)
        numbers = ", ".join(f"{k} {row[k]:.2f}" for k in ("fd_classifier", "precision", "recall")
                            if row[k] is not None)
        lines += [f"## {name}", "", f"`{card['method']}` on {card['dataset']}, config `{card['config']}`; "
                  f"{numbers}{'; ' + row['method_metric'] if row['method_metric'] else ''}. "
                  f"Recipe: {row['recipe'] or '-'}.", "",
                  f"![samples of {name}](gallery/{name}_samples.png)", "", f"{caption}:", "",
                  f"![{name}: {caption}](gallery/{name}_strip.png)", ""]
        print(name, flush=True)
    (docs / "gallery.md").write_text("\n".join(lines))
    from markdown_tables import fill

    fill(ROOT / "README.md", {"presets": pretrained.presets_table(names)})
    print(f"wrote {docs / 'gallery.md'} and the README's presets table")


if __name__ == "__main__":
    main()
