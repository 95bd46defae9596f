"""The command line: ``python -m models cnn|sda|reproduce``.

Exit codes: 0 done, 2 bad input (arguments, MNIST files, output folder,
checkpoint), 130 interrupted (continue with ``--resume``).
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from . import report, training
from .cnn import CNNConfig, run_cnn
from .datasets import MNISTCorruptError, MNISTNotFoundError, load_mnist
from .optimizers import OPTIMIZERS
from .sda import SDAConfig, run_sda

# --quick: a few minutes on 2 cores even with the NumPy reference mode.
QUICK_CNN = dict(epochs=4, n_train=2500, n_test=1000)
QUICK_SDA = dict(pretrain_epochs=3, finetune_epochs=4, n_train=4000, n_test=1000)
REPRODUCE_CNN = ("sgd", "momentum", "rmsprop")


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("common options")
    g.add_argument("--out", type=Path, help="output folder (default: runs/<experiment>, "
                   "reports/full or reports/quick for reproduce)")
    g.add_argument("--mnist", metavar="DIR", help="folder of the four MNIST IDX files (default: "
                   "$SYMGRAPH_MNIST, else ~/.cache/symgraph/mnist, downloading there)")
    g.add_argument("--seed", type=int, default=0, help="seeds the initialisation, the data order and "
                   "the corruption draws (default 0)")
    g.add_argument("--mode", help="symgraph compile mode, e.g. python or numba (default: symgraph's default)")
    g.add_argument("--batch-size", type=_positive, default=128, help="mini-batch size (default 128)")
    g.add_argument("--quick", action="store_true", help="few epochs on small subsets (minutes on 2 cores); "
                   "explicit options still win")
    g.add_argument("--resume", action="store_true", help="continue from the checkpoint in the output folder")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    g.add_argument("--quiet", action="store_true", help="no progress bars and no line per epoch")

    parser = argparse.ArgumentParser(prog="python -m models", description="Train the CNN and the stacked "
                                     "denoising autoencoder of the CZ4042 report on MNIST with symgraph.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{cnn,sda,reproduce}")

    p = sub.add_parser("cnn", parents=[common], help="Part A: one CNN experiment")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd",
                   help="sgd (Q1), momentum (Q2), rmsprop (Q3) or adam (default sgd)")
    p.add_argument("--epochs", type=_positive, help="default 100")
    p.add_argument("--train-size", type=_positive, help="training images (default 12000)")
    p.add_argument("--test-size", type=_positive, help="test images (default 2000)")

    p = sub.add_parser("sda", parents=[common], help="Part B: the stacked denoising autoencoder")
    p.add_argument("--sparse", action="store_true", help="Q3: momentum 0.1 and the sparsity penalty")
    p.add_argument("--epochs", type=_positive, help="pretraining epochs per layer and fine-tuning epochs")
    p.add_argument("--pretrain-epochs", type=_positive, help="per layer (default 25)")
    p.add_argument("--finetune-epochs", type=_positive, help="default 25")
    p.add_argument("--train-size", type=_positive, help="training images (default 60000)")
    p.add_argument("--test-size", type=_positive, help="test images (default 10000)")

    p = sub.add_parser("reproduce", parents=[common], help="all six questions and a report folder")
    p.add_argument("--epochs", type=_positive, help="every epoch count (CNN, pretraining, fine-tuning)")
    p.add_argument("--cnn-epochs", type=_positive, help="default 100")
    p.add_argument("--sda-epochs", type=_positive, help="pretraining per layer and fine-tuning (default 25)")
    p.add_argument("--cnn-train-size", type=_positive, help="default 12000")
    p.add_argument("--cnn-test-size", type=_positive, help="default 2000")
    p.add_argument("--sda-train-size", type=_positive, help="default 60000")
    p.add_argument("--sda-test-size", type=_positive, help="default 10000")
    return parser


def _pick(*values):
    """The first value that is not None."""
    return next(v for v in values if v is not None)


def cnn_config(args, optimizer, epochs=None, n_train=None, n_test=None) -> CNNConfig:
    quick = QUICK_CNN if args.quick else {}
    d = CNNConfig()
    return CNNConfig(optimizer=optimizer, epochs=_pick(epochs, quick.get("epochs"), d.epochs),
                     n_train=_pick(n_train, quick.get("n_train"), d.n_train),
                     n_test=_pick(n_test, quick.get("n_test"), d.n_test),
                     batch_size=args.batch_size, seed=args.seed)


def sda_config(args, sparse, pretrain=None, finetune=None, n_train=None, n_test=None) -> SDAConfig:
    quick = QUICK_SDA if args.quick else {}
    d = SDAConfig()
    return SDAConfig(sparse=sparse,
                     pretrain_epochs=_pick(pretrain, quick.get("pretrain_epochs"), d.pretrain_epochs),
                     finetune_epochs=_pick(finetune, quick.get("finetune_epochs"), d.finetune_epochs),
                     n_train=_pick(n_train, quick.get("n_train"), d.n_train),
                     n_test=_pick(n_test, quick.get("n_test"), d.n_test),
                     batch_size=args.batch_size, seed=args.seed)


def _experiments(args):
    """(name, kind, config) for every experiment the command runs."""
    if args.command == "cnn":
        cfg = cnn_config(args, args.optimizer, args.epochs, args.train_size, args.test_size)
        return [(f"cnn_{args.optimizer}", "cnn", cfg)]
    if args.command == "sda":
        cfg = sda_config(args, args.sparse, args.pretrain_epochs or args.epochs,
                         args.finetune_epochs or args.epochs, args.train_size, args.test_size)
        return [("sda_sparse" if args.sparse else "sda", "sda", cfg)]
    ce, se = args.cnn_epochs or args.epochs, args.sda_epochs or args.epochs
    out = [(f"cnn_{o}", "cnn", cnn_config(args, o, ce, args.cnn_train_size, args.cnn_test_size))
           for o in REPRODUCE_CNN]
    out += [(name, "sda", sda_config(args, sparse, se, se, args.sda_train_size, args.sda_test_size))
            for name, sparse in (("sda", False), ("sda_sparse", True))]
    return out


def _default_out(args, experiments) -> Path:
    if args.out is not None:
        return args.out
    if args.command == "reproduce":
        return Path("reports") / ("quick" if args.quick else "full")
    return Path("runs") / (experiments[0][0] + ("_quick" if args.quick else ""))


def run(args, argv_text: str) -> int:
    experiments = _experiments(args)
    backend = training.check_mode(args.mode)
    out = training.prepare_outdir(_default_out(args, experiments))
    many = args.command == "reproduce"
    if many:
        training.remove_outputs(out, ("report.md", "metrics.json", "metrics.csv"))
    data = load_mnist(args.mnist)
    progress = not (args.no_progress or args.quiet)
    print(f"writing to {out}/ (mode {backend}, seed {args.seed})", flush=True)
    start = time.perf_counter()
    results, prefixes = [], []
    for name, kind, cfg in experiments:
        folder = out / name if many else out
        t0 = time.perf_counter()
        run_fn = run_cnn if kind == "cnn" else run_sda
        result = run_fn(cfg, data, folder, mode=args.mode, resume=args.resume, progress=progress,
                        verbose=not args.quiet)
        results.append(result)
        prefixes.append(f"{name}/" if many else "")
        print(f"{name}: test accuracy {result['final_test_accuracy']:.4f}, training cost "
              f"{result['final_train_cost']:.5f} ({(time.perf_counter() - t0) / 60:.1f} min)", flush=True)
    seconds = time.perf_counter() - start
    shared = report.comparison_figures(out, results) if many else []
    if many:
        report.write_metrics(out, results, seconds)
    path = report.write_report(out, results, prefixes, shared, seconds, argv_text)
    print(f"done in {seconds / 60:.1f} min: {path}", flush=True)
    return 0


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)  # exits with 2 on bad arguments
    try:
        return run(args, "python -m models " + shlex.join(argv))
    except (training.UsageError, MNISTNotFoundError, MNISTCorruptError) as e:
        print(f"python -m models: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: the last finished epoch is saved; continue with the same command and --resume",
              file=sys.stderr)
        return 130
