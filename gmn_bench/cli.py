"""The ``gmn-bench`` command line."""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import torch

from .memory import keep_freed_memory
from .nets.precision import PRECISIONS
from .zoo.default import DEFAULT_ZOO
from .zoo.demo import build_demo_zoo
from .zoo.io import load_zoo, zoo_configs
from .zoo.weights import to_module


def _cmd_demo(args) -> int:
    folder = build_demo_zoo(args.out, seed=args.seed)
    zoo = load_zoo(folder, config="id")
    print(f"wrote {folder}; datasets.load_dataset reads it as {dict((s, len(d)) for s, d in zoo.items())}")
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for split, ds in zoo.items():
        for row in ds:
            logits = to_module(row)(x)
            print(f"  {split:<5} {row['model_id']:<12} {row['family']:<7} {row['n_params']:>8} params  logits {tuple(logits.shape)}")
    return 0


def _cmd_info(args) -> int:
    configs = [args.config] if args.config else zoo_configs(args.zoo)
    print(f"zoo {args.zoo}")
    for config in configs:
        for split, ds in load_zoo(args.zoo, config=config).items():
            final = ds.filter(lambda epoch, top=max(ds["epoch"]): epoch == top, input_columns="epoch")
            accs = [a for a in final["test_acc"] if a is not None]
            acc = f", final test acc {sum(accs) / len(accs):.3f} [{min(accs):.3f}, {max(accs):.3f}]" if accs else ""
            families = dict(sorted(Counter(final["family"]).items()))
            print(f"  {config}/{split}: {len(ds)} rows, {len(set(ds['model_id']))} networks {families}{acc}")
    return 0


def _cmd_build(args) -> int:
    from .build.engine import build_zoo
    from .build.recipes import load_recipe

    folder = build_zoo(load_recipe(args.recipe), args.out, data=args.data, n_networks=args.n_networks,
                       train_limit=args.train_limit, test_limit=args.test_limit, executor=args.executor,
                       workers=args.workers, address=args.address, device=args.device, precision=args.precision,
                       grouped=args.grouped, group_size=args.group_size, final_copy=args.final_copy,
                       progress=not args.quiet)
    print(f"zoo written to {folder}" + (f"; its final checkpoints to {args.final_copy}" if args.final_copy else ""))
    return 0


def _cmd_publish(args) -> int:
    from .zoo.publish import dry_run, publish

    if args.dry_run:
        print(f"dry run: wrote {dry_run(args.zoo, args.dry_run)} (datasets.load_dataset reads it)")
    else:
        print(f"published {publish(args.zoo, args.repo_id, args.tag, private=args.private)}")
    return 0


def _cmd_import(args) -> int:
    from .zoo.importing import import_zoo

    defaults = {}
    for item in args.default:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--default {item!r}: expected KEY=VALUE")
        try:
            defaults[key] = json.loads(value)
        except json.JSONDecodeError:
            defaults[key] = value
    folder = import_zoo(args.checkpoints, args.metrics, args.out, factory=args.factory, defaults=defaults,
                        held_out_family=args.held_out_family, ood_size_min_params=args.ood_size_min_params,
                        id_fractions=tuple(zip(("train", "validation", "test"), args.id_fractions)),
                        name=args.name, overwrite=args.overwrite)
    print(f"zoo written to {folder}")
    return 0


def _cmd_parameter_prediction(args) -> int:
    from .evaluation import parameter_prediction_table, run_parameter_prediction
    from .tasks import ParameterPredictionTask

    task = ParameterPredictionTask(args.zoo, data=args.data, test_limit=args.test_limit,
                                   finetune_epochs=args.finetune_epochs, finetune_limit=args.finetune_limit,
                                   seed=args.seed)
    results = run_parameter_prediction(task, args.out, predictions=args.predictions, train_steps=args.train_steps,
                                       train_limit=args.train_limit, seed=args.seed, progress=not args.quiet)
    print(f"CIFAR-10 test accuracy ({results['metanet']['name']}): mean ± std over the n networks of each test "
          "split [95% CI over the networks]")
    print(parameter_prediction_table(results["metrics"]))
    print(f"wrote {args.out}/results.json" + ("" if args.predictions else f" and {args.out}/predictions/"))
    return 0


def _cmd_submit(args) -> int:
    from .leaderboard.cli import run_submit

    return run_submit(args)


def _cmd_leaderboard(args) -> int:
    from .leaderboard.cli import run_leaderboard

    return run_leaderboard(args)


def _names(value: str, known, what: str) -> list[str]:
    names = list(known) if value == "all" else [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ValueError(f"unknown {what} {unknown or value!r}; expected 'all' or comma-separated names from {sorted(known)}")
    return names


def _learning_rates(value: str) -> list[float]:
    from .evaluation.run import check_lr_grid

    try:
        return check_lr_grid([float(v) for v in value.split(",") if v.strip()])
    except ValueError:
        raise ValueError(f"--lr-grid takes comma-separated finite positive learning rates, got {value!r}") from None


def _evaluate_job(args, task_name: str, name: str, cache: dict | None = None):
    """One (task, metanet) evaluation, written to ``args.out``; ``None`` if the metanet cannot read the zoo
    and was only implied by ``--metanet all``."""
    from .evaluation import evaluate_metanet, save_results
    from .metanets import MetanetNotApplicable
    from .tasks import get_task

    task = get_task(task_name, zoo=args.zoo, revision=args.revision)
    save_dir = Path(args.save_metanets) / f"{task_name}__{name}" if args.save_metanets else None
    epochs = args.epochs.get(name) if isinstance(args.epochs, dict) else args.epochs
    kept = _finished(args, task, name, epochs) if args.resume else None
    if kept is not None:
        print(f"kept {kept[1]} (same zoo, seeds, learning rates and epochs)", flush=True)
        return kept[0]
    try:
        result = evaluate_metanet(task, name, seeds=range(args.seeds), epochs=epochs, lr_grid=args.lr_rates,
                                  device=args.device, progress=not args.quiet, feature_cache=cache, save_dir=save_dir)
    except MetanetNotApplicable as e:
        if args.metanet != "all":
            raise
        print(f"skipped {name} on {task_name}: {e}", flush=True)
        return None
    print(f"wrote {save_results(result, task, args.out)}", flush=True)
    return result


def _finished(args, task, name: str, epochs: int | None):
    """``(results, path)`` of an earlier run of this request in ``args.out`` (``--resume``), else None."""
    from .evaluation import Results, ResultsFormatError, resolve_metanet
    from .evaluation.results import cross_zoo_ref
    from .metanets import TorchMetanet
    from .tasks import zoo_fingerprint

    path = Path(args.out) / f"{task.name}__{name}.json"
    try:
        old = Results.load(path)
    except (OSError, ResultsFormatError):
        return None
    cls = resolve_metanet(name)
    seeds = [0] if cls.deterministic else list(range(args.seeds))
    test_zoo = cross_zoo_ref(task)
    same = old.zoo.fingerprint == zoo_fingerprint(task.zoo, task.revision) and old.seeds == seeds \
        and (old.test_zoo and old.test_zoo.fingerprint) == (test_zoo and test_zoo.fingerprint)
    if issubclass(cls, TorchMetanet):
        same = same and old.protocol.get("epochs") == (epochs or cls.default_epochs) \
            and old.tuning is not None and list(old.tuning.grid) == list(args.lr_rates)
    return (old, path) if same else None


def _evaluate_worker(args, task_name: str, name: str):
    """:func:`_evaluate_job` in a worker process of ``--workers``: its own threads and allocator settings."""
    keep_freed_memory()
    torch.set_num_threads(args.threads or 1)
    return _evaluate_job(args, task_name, name)


def _cmd_evaluate(args) -> int:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from .evaluation import LR_GRID, comparison_table
    from .metanets import METANETS
    from .tasks import TASKS, get_task

    tasks, metanets = _names(args.task, TASKS, "task"), _names(args.metanet, METANETS, "metanet")
    if isinstance(args.epochs, dict):
        _names(",".join(args.epochs), metanets, "metanet in --epochs")
    args.lr_rates = _learning_rates(args.lr_grid) if args.lr_grid is not None else LR_GRID
    jobs = [(task_name, name) for task_name in tasks for name in metanets]
    threads = torch.get_num_threads()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        if args.workers == 1:
            cache: dict = {}
            results = [_evaluate_job(args, *job, cache=cache) for job in jobs]
        else:  # one process per job, the pool's workers take them in order (spawned: torch is not fork-safe)
            args.quiet = True
            with ProcessPoolExecutor(min(args.workers, len(jobs)), mp_context=get_context("spawn")) as pool:
                results = list(pool.map(_evaluate_worker, [args] * len(jobs), *zip(*jobs)))
    finally:
        torch.set_num_threads(threads)
    results = [r for r in results if r is not None]
    print()
    print(comparison_table(results, [get_task(t, zoo=args.zoo, revision=args.revision) for t in tasks])
          if results else "no results")
    return 0


def _count(minimum: int):
    """An argparse type: an integer of at least ``minimum`` (never silently replaced by a default)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def _epochs(text: str) -> int | dict[str, int]:
    """``--epochs``: ``N`` for every torch metanet, or ``NAME=N[,NAME=N...]`` for the named ones."""
    if "=" not in text:
        return _count(1)(text)
    epochs = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        if not name.strip() or name.strip() in epochs:
            raise argparse.ArgumentTypeError(f"expected N or NAME=N[,NAME=N...], got {text!r}")
        epochs[name.strip()] = _count(1)(value)
    return epochs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="gmn-bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="build one network per family, write them as a zoo folder, load it back")
    demo.add_argument("--out", default="gmn-bench-demo-zoo", help="zoo folder to (re)write")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_cmd_demo)
    info = sub.add_parser("info", help="summarise a zoo (Hub repo id or local folder; default: the embedded zoo)")
    info.add_argument("zoo", nargs="?", default=str(DEFAULT_ZOO))
    info.add_argument("--config", default=None)
    info.set_defaults(func=_cmd_info)
    build = sub.add_parser("build", help="train a recipe's zoo (resumes an interrupted build)")
    build.add_argument("recipe", help="recipe TOML file or builders/<name> folder")
    build.add_argument("--out", required=True, help="zoo folder; finished networks are kept in <out>.parts/")
    build.add_argument("--data", default="uoft-cs/cifar10", help="CIFAR-10 Hub id or local folder of the same layout")
    build.add_argument("--n-networks", type=_count(1), default=None, help="build only the first N networks")
    build.add_argument("--train-limit", type=_count(1), default=None, help="use only the first N training images")
    build.add_argument("--test-limit", type=_count(1), default=None, help="use only the first N test images")
    build.add_argument("--executor", choices=["local", "ray"], default="local")
    build.add_argument("--workers", type=_count(1), default=None, help="local processes (default: all cores; 1 on CUDA)")
    build.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray)")
    build.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                       help="train on CPU (bitwise deterministic) or CUDA; auto: CUDA when available")
    build.add_argument("--precision", choices=PRECISIONS, default=None,
                       help="training precision (default: the recipe's, else auto). auto: bfloat16 autocast for the "
                            "families it speeds up on a CPU with bfloat16 units (cnn, resnet), or on a bfloat16 "
                            "GPU; float32 elsewhere. Recorded per network in the zoo's precision column")
    build.add_argument("--grouped", action=argparse.BooleanOptionalAction, default=None,
                       help="train same-shape networks together with torch.func (default: on CUDA only)")
    build.add_argument("--group-size", type=_count(1), default=16, help="networks per group (default 16)")
    build.add_argument("--final-copy", metavar="DIR", default=None,
                       help="also write a zoo of each network's final checkpoint only (the embedded copy) to DIR")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=_cmd_build)
    pub = sub.add_parser("publish", help="upload a zoo folder to the Hugging Face Hub and tag the version")
    pub.add_argument("zoo", help="zoo folder written by gmn-bench build")
    pub.add_argument("--repo-id", help="ORG/NAME of the dataset repo")
    pub.add_argument("--tag", default="v1.0", help="version tag; an existing tag is never overwritten")
    pub.add_argument("--private", action="store_true")
    pub.add_argument("--dry-run", metavar="DIR", help="write what would be uploaded to DIR instead")
    pub.set_defaults(func=_cmd_publish)
    imp = sub.add_parser("import", help="turn a folder of checkpoints and a metrics table into a zoo folder")
    imp.add_argument("checkpoints", help="folder of <id>/epoch_<epoch>.{safetensors,pt,pth} (or as the table names)")
    imp.add_argument("--metrics", required=True, help="CSV or JSON-lines table: id, spec, epoch, accuracies, "
                     "hyperparameters (see gmn_bench.zoo.importing)")
    imp.add_argument("--factory", default=None, help="model factory package.module:function, called with each spec")
    imp.add_argument("--out", required=True, help="zoo folder to write")
    imp.add_argument("--default", action="append", default=[], metavar="KEY=VALUE",
                     help="value of a column the table lacks (repeatable), e.g. --default augmentation=none")
    imp.add_argument("--held-out-family", default=None, help="add the ood_family config holding this family out")
    imp.add_argument("--ood-size-min-params", type=int, default=None, metavar="N",
                     help="add the ood_size config holding out every network of at least N parameters "
                          "(no ood_size config without it)")
    imp.add_argument("--id-fractions", type=float, nargs=3, default=(0.8, 0.1, 0.1),
                     metavar=("TRAIN", "VALIDATION", "TEST"), help="expected shares of the id split (default 0.8 0.1 0.1)")
    imp.add_argument("--name", default="imported gmn-bench zoo", help="the dataset card's title")
    imp.add_argument("--overwrite", action="store_true", help="replace an existing zoo folder")
    imp.set_defaults(func=_cmd_import)
    from .leaderboard.cli import add_leaderboard_arguments, add_submit_arguments

    submit = sub.add_parser("submit", help="package results files as a leaderboard submission (local folder or Hub PR)")
    add_submit_arguments(submit)
    submit.set_defaults(func=_cmd_submit)
    board = sub.add_parser("leaderboard", help="check, re-score and rank every submission; rebuild the board pages")
    add_leaderboard_arguments(board)
    board.set_defaults(func=_cmd_leaderboard)
    ev = sub.add_parser("evaluate", help="train and score metanets on tasks; write results JSON + plots, print a table")
    ev.add_argument("--zoo", default=str(DEFAULT_ZOO), help="Hub repo id or local zoo folder (default: embedded zoo)")
    ev.add_argument("--revision", default=None, help="Hub revision (tag, branch or commit) of the zoo")
    ev.add_argument("--task", default="all", help="task name, comma-separated names, or 'all'")
    ev.add_argument("--metanet", default="all", help="metanet name, comma-separated names, or 'all' "
                    "('all' skips metanets that cannot read the zoo)")
    ev.add_argument("--seeds", type=_count(1), default=3, help="number of seeds (0..N-1)")
    ev.add_argument("--epochs", type=_epochs, default=None,
                    help="training epochs of torch metanets: N for all, or NAME=N[,NAME=N...] for the named ones "
                         "(default: each metanet's default_epochs, else 100)")
    ev.add_argument("--lr-grid", default=None,
                    help="comma-separated learning rates every torch metanet is trained with, one chosen on the "
                         "validation split (default: gmn_bench.evaluation.LR_GRID)")
    ev.add_argument("--save-metanets", default=None, metavar="DIR",
                    help="save each trained torch metanet (chosen learning rate) to DIR/<task>__<metanet>/seed-<s>/")
    ev.add_argument("--out", default="results", help="folder for <task>__<metanet>.json and .png")
    ev.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    ev.add_argument("--threads", type=_count(1), default=None,
                    help="torch CPU threads (default: torch's choice; 1 per worker with --workers)")
    ev.add_argument("--workers", type=_count(1), default=1,
                    help="(task, metanet) evaluations run at once, each in its own process (no progress bars; "
                         "the results are the same as one by one)")
    ev.add_argument("--quiet", action="store_true", help="no progress bars")
    ev.add_argument("--resume", action="store_true",
                    help="keep the results already in --out of the same zoo, seeds, learning rates and epochs "
                         "(an interrupted run goes on where it stopped)")
    ev.set_defaults(func=_cmd_evaluate)
    pp = sub.add_parser("parameter-prediction",
                        help="train the reference GHN (or score a predictions folder) on the parameter-prediction task")
    pp.add_argument("--zoo", default=str(DEFAULT_ZOO), help="zoo Hub repo id or folder (default: the embedded zoo)")
    pp.add_argument("--data", default="uoft-cs/cifar10", help="CIFAR-10 Hub id or local folder of the same layout")
    pp.add_argument("--test-limit", type=_count(1), default=None, help="score on the first N test images only")
    pp.add_argument("--finetune-epochs", type=_count(0), default=1, help="fine-tuning epochs (0: no fine-tuning rows)")
    pp.add_argument("--finetune-limit", type=_count(1), default=1000, help="fine-tune on the first N training images")
    pp.add_argument("--train-steps", type=_count(1), default=300, help="GHN training steps")
    pp.add_argument("--train-limit", type=_count(1), default=None, help="train the GHN on the first N training images")
    pp.add_argument("--seed", type=int, default=0)
    pp.add_argument("--out", default="parameter-prediction", help="folder for predictions/ and results.json")
    pp.add_argument("--predictions", default=None, help="score this folder of <model_id>.safetensors instead of the GHN")
    pp.add_argument("--quiet", action="store_true", help="no progress bars")
    pp.set_defaults(func=_cmd_parameter_prediction)
    args = parser.parse_args(argv)
    keep_freed_memory()
    if args.command == "publish" and not (args.repo_id or args.dry_run):
        parser.error("publish needs --repo-id ORG/NAME (or --dry-run DIR)")
    try:
        return args.func(args)
    except (ValueError, RuntimeError, OSError) as e:  # these carry a clear message (OSError: the file and why)
        print(f"gmn-bench {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
