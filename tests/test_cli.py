"""The `zoo` command line: list, errors naming the valid choices, and train -> sample -> evaluate -> export."""
import json

import pytest

from tests.conftest import run_python
from zoo_app.cli import main


def zoo_cli(*args, check=True):
    """`python -m zoo ARGS` in a subprocess: the real command, for the runs that train."""
    return run_python(["-m", "zoo", *args], check=check)


def zoo_in_process(capsys, *args):
    """``(exit status, stdout, stderr)`` of ``zoo ARGS`` through `zoo_app.cli.main` (no TensorFlow start-up per
    call)."""
    try:
        status = main(list(args))
    except SystemExit as stop:
        status = stop.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_list(capsys):
    status, out, _ = zoo_in_process(capsys, "list")
    assert status == 0
    assert "dcgan" in out and "fashion_mnist" in out and "fd_classifier" in out


@pytest.mark.parametrize("args,message", [
    (["train", "dcgn", "--dataset", "digits"], "Known models: bgan, bggan, cggan, clggan, dcgan"),
    (["train", "dcgan", "--dataset", "fashon"], "Did you mean 'fashion_mnist'?"),
    (["train", "dcgan", "--dataset", "digits", "--config", "huge"],
     "Known configs: default, fashion32_b64_long, fashion32_long, fashion32_r1_long, quick, smoke"),
    (["train", "dcgan", "--dataset", "digits", "--epochs", "0"], "--epochs: must be a positive integer"),
    (["train", "dcgan", "--dataset", "digits", "--strategy", "tpu"], "invalid choice: 'tpu'"),
    (["train", "dcgan", "--dataset", "digits", "--backup-every", "10m"], "not a number of steps (500), of seconds"),
    (["evaluate", "--run", "/nonexistent", "--metrics", "fid"], "Known metrics:"),
    (["sample", "--run", "/nonexistent"], "must be a directory written by `zoo train`"),
    (["walk", "--run", "/nonexistent", "--kind", "axis"], "must be a directory written by `zoo train`"),
])
def test_bad_arguments_exit_2_with_the_reason(capsys, args, message):
    status, _, err = zoo_in_process(capsys, *args)
    assert status == 2
    assert message in err


def test_train_sample_evaluate_export(tmp_path):
    run = tmp_path / "run"
    out = zoo_cli("train", "dcgan", "--dataset", "fashion_mnist", "--config", "smoke", "--out", str(run),
                  "--verbose", "2").stdout
    assert "samples:" in out and (run / "samples.png").exists() and (run / "export" / "1" / "saved_model.pb").exists()
    assert "d_loss" in (run / "history.csv").read_text()
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]
    assert list((run / "logs" / "samples").glob("events.out.tfevents.*"))  # TensorBoard sample images
    assert list((run / "logs" / "train").glob("events.out.tfevents.*"))  # TensorBoard scalars
    zoo_cli("sample", "--run", str(run), "--n", "16", "--out", str(tmp_path / "g.png"))
    assert (tmp_path / "g.png").stat().st_size > 100
    printed = zoo_cli("evaluate", "--run", str(run), "--metrics", "fd_classifier,sharpness", "--n", "500").stdout
    assert "fd_classifier" in printed and "zoo-cnn-fashion_mnist-v1" in printed
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["metric"] for r in records] == ["fd_classifier", "sharpness"]
    assert records[0]["protocol"]["n_fake"] == 500 and records[0]["protocol"]["split"] == "test"
    assert records[0]["value"] > 0
    exported = zoo_cli("export", "--run", str(run)).stdout.strip().splitlines()[-1]
    assert exported.endswith("export/2")
    card = json.loads((run / "export" / "2" / "assets.extra" / "model_card.json").read_text())
    assert card["dataset"] == "fashion_mnist" and card["training"]["g_optimizer_iterations"] == 8
    assert [m["metric"] for m in card["metrics"]] == ["fd_classifier", "sharpness"]


def test_attribute_sampling_on_a_saved_lsc_gan_run(tmp_path, capsys):
    """`zoo sample --attributes` on an lsc_gan run directory (saved untrained: what is checked is the CLI)."""
    import zoo

    run = tmp_path / "run"
    run.mkdir()
    model = zoo.build_model("lsc_gan", config="smoke")
    model.compile()
    model.save(run / "model.keras")
    (run / "run.json").write_text(json.dumps({"dataset": "fashion_mnist", "config": "smoke"}))
    status, out, _ = zoo_in_process(capsys, "sample", "--run", str(run), "--n", "8", "--attributes", "Bag=2,0=-1",
                                    "--out", str(tmp_path / "a.png"))
    assert status == 0 and (tmp_path / "a.png").stat().st_size > 100
    status, _, err = zoo_in_process(capsys, "sample", "--run", str(run), "--attributes", "Shoe")
    assert status == 2 and "Valid attributes (index: name): 0: T-shirt/top" in err
    status, out, _ = zoo_in_process(capsys, "evaluate", "--run", str(run), "--n", "200",
                                    "--metrics", "lsc_block_probe,lsc_attribute_accuracy")
    assert status == 0 and "lsc_block_probe" in out and "lsc_attribute_accuracy" in out
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {r["metric"] for r in records} == {"lsc_block_probe", "lsc_attribute_accuracy"}
    status, _, err = zoo_in_process(capsys, "sample", "--run", str(run), "--attributes", "Bag=x")
    assert status == 2 and "must be a number" in err


@pytest.mark.slow
def test_lsc_gan_trains_exports_and_samples_by_attribute(tmp_path, capsys):
    run = tmp_path / "run"
    zoo_cli("train", "lsc_gan", "--dataset", "fashion_mnist", "--config", "smoke", "--out", str(run), "--verbose", "2")
    assert (run / "export" / "1" / "saved_model.pb").exists()
    history = (run / "history.csv").read_text().splitlines()
    assert "consistency" in history[0] and len(history) == 3  # header + one epoch per stage
    zoo_cli("sample", "--run", str(run), "--n", "8", "--attributes", "Bag=2,0=-1", "--out", str(tmp_path / "a.png"))
    assert (tmp_path / "a.png").stat().st_size > 100
    status, _, err = zoo_in_process(capsys, "sample", "--run", str(run), "--attributes", "Shoe")
    assert status == 2 and "Valid attributes (index: name): 0: T-shirt/top" in err
    status, out, _ = zoo_in_process(capsys, "evaluate", "--run", str(run), "--n", "200",
                                    "--metrics", "lsc_block_probe,lsc_attribute_accuracy")
    assert status == 0 and "lsc_block_probe" in out and "lsc_attribute_accuracy" in out
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {r["metric"] for r in records} == {"lsc_block_probe", "lsc_attribute_accuracy"}


def test_list_presets_prints_every_preset_with_its_card_numbers(capsys):
    from zoo import pretrained

    status, out, _ = zoo_in_process(capsys, "list", "--presets")
    assert status == 0
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| preset")]
    assert [r.split(" | ")[0][2:] for r in rows] == pretrained.list_presets()
    card = pretrained.read_card(pretrained.find_preset("dcgan_fashion_mnist"))
    fd = next(r["value"] for r in card["metrics"] if r["metric"] == "fd_classifier")
    assert f"| {fd:.2f} |" in next(r for r in rows if r.startswith("| dcgan_fashion_mnist "))
