"""The report folder's summary: comparison figures, metrics for every
experiment as JSON and CSV, and ``report.md``, which tables the results
beside what the course report states."""
from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np

from . import plots, training

# What the report says of each experiment (its text and figures).
STATED = {
    "cnn_sgd": "accuracy reaches 96% after about 20 epochs; training cost about 0.001 after 100 epochs",
    "cnn_momentum": "test accuracy higher than SGD and converges earlier; training cost about the same as SGD",
    "cnn_rmsprop": "best test accuracy and convergence of the three; lowest training cost",
    "sda": "fine-tuning test accuracy keeps increasing, reaching 91.1%",
    "sda_sparse": "fine-tuning accuracy curve smoother than Q2; training cost higher (sparsity penalty)",
}
STATED_PRETRAIN = {
    "sda": ("about 60", "above 400", "drops a lot but still quite high"),
    "sda_sparse": ("a bit higher than Q1", "lower than Q1", "lower than Q1"),
}
CNN_ORDER = ("cnn_sgd", "cnn_momentum", "cnn_rmsprop", "cnn_adam")


def _pct(x):
    return f"{100 * x:.2f}%"


def _last10(acc):
    return float(np.mean(acc[-10:]))


def _first_reaching(acc, level):
    i = next((i for i, a in enumerate(acc) if a >= level), None)
    return "never" if i is None else str(i + 1)


def comparison_figures(outdir: Path, results: list) -> list[str]:
    """The optimizers' accuracy and cost on one plot each (report figures 16
    and 17), and plain vs sparse SDA, when those results are present."""
    fig_dir = outdir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    by = {r["experiment"]: r for r in results}
    cnns = {r["config"]["optimizer"]: r["history"] for k in CNN_ORDER if (r := by.get(k))}
    out = []
    if len(cnns) >= 2:
        out.append(plots.comparison(fig_dir / "compare_test_accuracy.png",
                                    {k: h["test_accuracy"] for k, h in cnns.items()},
                                    "test accuracy", "Part A: comparison of test accuracy"))
        out.append(plots.comparison(fig_dir / "compare_training_cost.png",
                                    {k: h["train_cost"] for k, h in cnns.items()},
                                    "training cost", "Part A: comparison of training cost", log=True))
    if "sda" in by and "sda_sparse" in by:
        plain, sparse = by["sda"]["history"], by["sda_sparse"]["history"]
        out.append(plots.comparison(fig_dir / "compare_sda_accuracy.png",
                                    {"Q2 (gradient descent)": plain["finetune_accuracy"],
                                     "Q3 (momentum + sparsity)": sparse["finetune_accuracy"]},
                                    "test accuracy", "Part B: fine-tuning test accuracy"))
    return [str(Path(p).relative_to(outdir)) for p in out]


def write_metrics(outdir: Path, results: list, seconds: float) -> None:
    """``metrics.json`` (every result) and ``metrics.csv`` (one row per epoch)."""
    from . import cnn, sda
    rows = [row for r in results for row in (cnn if r["kind"] == "cnn" else sda).metric_rows(r)]
    training.write_csv(outdir / "metrics.csv", ["experiment", "phase", "epoch", "cost", "test_accuracy"], rows)
    training.write_json(outdir / "metrics.json", {"complete": True, "seconds": seconds, "results": results})


def _cnn_table(cnns):
    lines = ["| Question | Optimizer | Epochs | Train/test images | Final test accuracy | Mean of last 10 "
             "| Best (epoch) | First epoch >= 96% | Final training cost | The report states |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in cnns:
        c, h = r["config"], r["history"]
        acc = h["test_accuracy"]
        best = int(np.argmax(acc))
        settings = ", ".join(f"{k} {v:g}" for k, v in r["optimizer_settings"].items())
        lines.append(f"| {r['title'].split(':')[0]} | {c['optimizer']} ({settings}) | {len(acc)} "
                     f"| {c['n_train']}/{c['n_test']} | {_pct(acc[-1])} | {_pct(_last10(acc))} "
                     f"| {_pct(acc[best])} ({best + 1}) "
                     f"| {_first_reaching(acc, 0.96)} | {h['train_cost'][-1]:.5f} "
                     f"| {STATED.get(r['experiment'], '')} |")
    if len(cnns) >= 2:
        ranked = sorted(cnns, key=lambda r: -_last10(r["history"]["test_accuracy"]))
        lines += ["", "Mean test accuracy of the last 10 epochs, best first: " + " > ".join(
            f"{r['config']['optimizer']} ({_pct(_last10(r['history']['test_accuracy']))})" for r in ranked)
            + ". The report ranks RMSProp first, momentum second and SGD last. (One test image is "
            f"{_pct(1 / cnns[0]['config']['n_test'])} of the test subset.)"]
    return lines


def _sda_tables(sdas):
    lines = ["Pretraining: mean reconstruction cross-entropy of the last epoch, per hidden layer.", "",
             "| Run | Layer 1 (784-900) | Layer 2 (900-625) | Layer 3 (625-400) | Mean activation "
             "(layers 1/2/3) | The report states (layers 1/2/3) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in sdas:
        costs = " | ".join(f"{c:.2f}" for c in r["final_pretrain_cost"])
        act = " / ".join(f"{a:.3f}" for a in r["mean_activation"])
        stated = " / ".join(STATED_PRETRAIN.get(r["experiment"], ()))
        lines.append(f"| {r['title'].split(':')[0]} | {costs} | {act} | {stated} |")
    lines += ["", "Fine-tuning of the five-layer classifier.", "",
              "| Run | Epochs (pretrain/fine-tune) | Train/test images | Final test accuracy | Best (epoch) "
              "| Final training cost | The report states |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in sdas:
        c, h = r["config"], r["history"]
        acc = h["finetune_accuracy"]
        best = int(np.argmax(acc))
        q = "Part B Q3" if r["experiment"] == "sda_sparse" else "Part B Q2"
        lines.append(f"| {q} | {c['pretrain_epochs']}/{len(acc)} | {c['n_train']}/{c['n_test']} "
                     f"| {_pct(acc[-1])} | {_pct(acc[best])} ({best + 1}) | {h['finetune_cost'][-1]:.4f} "
                     f"| {STATED.get(r['experiment'], '')} |")
    return lines


def _figure_list(results, prefixes, shared):
    lines = []
    if shared:
        lines += ["Comparisons:", ""] + [f"![{Path(f).stem}]({f})" for f in shared] + [""]
    for r, prefix in zip(results, prefixes):
        lines.append(f"- {r['title']}: " + ", ".join(f"[{Path(f).stem}]({prefix}{f})" for f in r["figures"]))
    return lines


def write_report(outdir: Path, results: list, prefixes: list, shared_figures: list, seconds: float,
                 command: str) -> Path:
    """Write ``outdir/report.md``; ``prefixes[i]`` is the folder of result
    ``i``'s figures relative to ``outdir`` ('' or 'cnn_sgd/')."""
    cnns = sorted((r for r in results if r["kind"] == "cnn"), key=lambda r: CNN_ORDER.index(r["experiment"]))
    sdas = [r for r in results if r["kind"] == "sda"]
    mode = ", ".join(dict.fromkeys(m for r in results for m in r["mode"].split(", ")))
    lines = ["# Reproduction of the CZ4042 assignment 2 report on symgraph", "",
             f"Command: `{command}`  ", f"Compile mode: `{mode}`; seed {results[0]['config']['seed']}; "
             f"Python {platform.python_version()} on {platform.machine()} ({os.cpu_count()} CPUs); "
             f"this command took {seconds / 60:.1f} min.", ""]
    times = ", ".join(f"{r['experiment']} {r['train_seconds'] / 60:.1f} min" for r in results)
    lines += [f"Training time per experiment (sum of its epochs, over resumes): {times}.", ""]
    if cnns:
        lines += ["## Part A: CNN (C1 15@9x9, S1 2x2, C2 20@5x5, S2 2x2, F3 100, F4 softmax 10)", ""]
        lines += _cnn_table(cnns) + [""]
    if sdas:
        lines += ["## Part B: stacked denoising autoencoder 784-900-625-400", ""] + _sda_tables(sdas) + [""]
    lines += ["## Figures", ""] + _figure_list(results, prefixes, shared_figures) + [""]
    lines += ["Per-epoch numbers are in `metrics.csv` and `metrics.json`; parameters in each "
              "experiment's `params.npz`.", ""]
    path = outdir / "report.md"
    training.atomic_write(path, "\n".join(lines).encode())
    return path
