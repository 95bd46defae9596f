"""The command line end to end (tiny subsets, one epoch) and its bad input."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models import cli
from models.datasets import FILES

PNG = b"\x89PNG\r\n\x1a\n"


def tiny(mnist_dir, out, *extra):
    return ["--mnist", str(mnist_dir), "--out", str(out), "--quiet", "--mode", "python", *extra]


def test_reproduce_end_to_end(mnist_dir, tmp_path, capsys):
    out = tmp_path / "report"
    argv = ["reproduce", "--quick", "--epochs", "1", "--cnn-train-size", "200", "--cnn-test-size", "100",
            "--sda-train-size", "200", "--sda-test-size", "100", *tiny(mnist_dir, out)]
    assert cli.main(argv) == 0
    assert "done in" in capsys.readouterr().out

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["complete"]
    results = {r["experiment"]: r for r in metrics["results"]}
    assert sorted(results) == ["cnn_momentum", "cnn_rmsprop", "cnn_sgd", "sda", "sda_sparse"]
    assert results["cnn_rmsprop"]["optimizer_settings"] == {"lr": 0.001, "decay": 1e-4, "rho": 0.9, "epsilon": 1e-6}
    assert results["cnn_sgd"]["config"]["n_train"] == 200 and results["cnn_sgd"]["config"]["epochs"] == 1
    assert results["sda_sparse"]["momentum"] == 0.1 and results["sda_sparse"]["beta"] == 0.5
    assert results["sda"]["momentum"] == 0 and results["sda"]["beta"] == 0
    for r in results.values():
        assert r["complete"] and r["mode"] == "python"
        for f in r["figures"]:
            assert (out / r["experiment"] / f).read_bytes()[:8] == PNG

    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 * 1 + 2 * (3 + 1)  # CNN epochs; SDA layers + fine-tuning
    assert {r["phase"] for r in rows} == {"train", "pretrain_layer1", "pretrain_layer2", "pretrain_layer3",
                                          "finetune"}
    for name in ("compare_test_accuracy", "compare_training_cost", "compare_sda_accuracy"):
        assert (out / "figures" / f"{name}.png").read_bytes()[:8] == PNG

    report = (out / "report.md").read_text()
    for text in ("Part A Q1", "Part A Q2", "Part A Q3", "Part B Q2", "Part B Q3", "91.1%", "about 60",
                 "(figures/compare_test_accuracy.png)", "(cnn_sgd/figures/feature_maps_pattern2.png)",
                 "(sda_sparse/figures/weights_layer3.png)"):
        assert text in report, text
    acc = results["cnn_sgd"]["final_test_accuracy"]
    assert f"{100 * acc:.2f}%" in report


def test_cnn_resume_through_the_cli(mnist_dir, tmp_path):
    args = ["cnn", "--optimizer", "rmsprop", "--train-size", "150", "--test-size", "50", "--batch-size", "32"]
    assert cli.main(args + ["--epochs", "2", *tiny(mnist_dir, tmp_path / "a")]) == 0
    assert cli.main(args + ["--epochs", "1", *tiny(mnist_dir, tmp_path / "b")]) == 0
    assert cli.main(args + ["--epochs", "2", "--resume", *tiny(mnist_dir, tmp_path / "b")]) == 0
    a, b = (json.loads((tmp_path / d / "metrics.json").read_text())["history"] for d in "ab")
    assert a["train_cost"] == b["train_cost"] and a["test_accuracy"] == b["test_accuracy"]
    pa, pb = np.load(tmp_path / "a" / "params.npz"), np.load(tmp_path / "b" / "params.npz")
    for k in pa.files:
        np.testing.assert_array_equal(pa[k], pb[k])


@pytest.mark.parametrize("argv, message", [
    (["cnn", "--optimizer", "adagrad"], "invalid choice: 'adagrad'"),
    (["cnn", "--epochs", "-3"], "expected a positive integer, got -3"),
    (["sda", "--epochs", "many"], "expected a positive integer, got 'many'"),
    (["reproduce", "--sda-test-size", "0"], "expected a positive integer, got 0"),
    (["train"], "invalid choice: 'train'"),
])
def test_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def run_error(argv, capsys):
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("python -m models: error: ")
    return err


def test_missing_mnist_exits_2(tmp_path, capsys):
    out = tmp_path / "out"
    err = run_error(["cnn", "--mnist", str(tmp_path / "nowhere"), "--out", str(out)], capsys)
    assert "MNIST files not found" in err and "train-images-idx3-ubyte" in err
    assert not (out / "report.md").exists() and not (out / "metrics.json").exists()


def test_corrupt_mnist_exits_2(mnist_dir, tmp_path, capsys):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in FILES:
        if name != "t10k-labels-idx1-ubyte":
            os.symlink(Path(mnist_dir, name + ".gz").resolve(), folder / (name + ".gz"))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x27\x10" + b"\x01" * 100)
    err = run_error(["sda", "--mnist", str(folder), "--out", str(tmp_path / "out")], capsys)
    assert "t10k-labels-idx1-ubyte" in err and "sha256 mismatch" in err


def test_unwritable_output_folder_exits_2(mnist_dir, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    err = run_error(["cnn", "--mnist", str(mnist_dir), "--out", str(blocker / "out")], capsys)
    assert "cannot write to the output folder" in err and "a-file" in err


@pytest.mark.parametrize("extra, message", [
    (["--mode", "nope"], "mode 'nope'"),
    (["--train-size", "100"], "training subset size must be in (128, 60000]"),
    (["--test-size", "20000"], "test subset size must be in [1, 10000]"),
])
def test_bad_settings_exit_2(mnist_dir, tmp_path, capsys, extra, message):
    err = run_error(["cnn", "--mnist", str(mnist_dir), "--out", str(tmp_path), *extra], capsys)
    assert message in err


def test_resume_with_other_settings_exits_2(mnist_dir, tmp_path, capsys):
    args = ["cnn", "--test-size", "20", "--batch-size", "16", "--epochs", "1", *tiny(mnist_dir, tmp_path)]
    assert cli.main(args + ["--train-size", "40"]) == 0
    err = run_error(args + ["--train-size", "50", "--resume"], capsys)
    assert "settings differ (n_train: saved 40, now 50)" in err


def test_python_dash_m_exit_codes(tmp_path):
    env = {**os.environ, "SYMGRAPH_MNIST": str(tmp_path / "empty")}
    bad = subprocess.run([sys.executable, "-m", "models", "cnn", "--optimizer", "nope"], capture_output=True,
                         text=True, env=env)
    assert bad.returncode == 2 and "invalid choice: 'nope'" in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "models", "sda", "--out", str(tmp_path / "o")],
                             capture_output=True, text=True, env=env)
    assert missing.returncode == 2 and "MNIST files not found" in missing.stderr
    assert "$SYMGRAPH_MNIST" in missing.stderr
