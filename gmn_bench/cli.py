"""The ``gmn-bench`` command line."""
from __future__ import annotations

import argparse
import atexit
import signal
import sys
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import torch

from .intake import integer_text, json_loads
from .evaluation.parameter_prediction import DEFAULT_CACHE
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
        try:  # a JSON value (strict: NaN, overflow, deep nesting are not), else the text itself
            defaults[key] = json_loads(value, f"--default {key}", ValueError, _DEFAULT_DEPTH)
        except ValueError:
            defaults[key] = value
    folder = import_zoo(args.checkpoints, args.metrics, args.out, factory=args.factory, defaults=defaults,
                        held_out_family=args.held_out_family, ood_size_min_params=args.ood_size_min_params,
                        id_fractions=tuple(zip(("train", "validation", "test"), args.id_fractions)),
                        name=args.name, overwrite=args.overwrite)
    print(f"zoo written to {folder}")
    return 0


def _cmd_parameter_prediction(args) -> int:
    from .build.recipes import load_recipe
    from .evaluation import anchors_table, parameter_prediction_table, run_parameter_prediction
    from .tasks import ParameterPredictionTask

    task = ParameterPredictionTask(args.zoo, data=args.data, test_limit=args.test_limit,
                                   finetune_epochs=args.finetune_epochs, finetune_limit=args.finetune_limit,
                                   seed=args.seed)
    recipe = load_recipe(args.recipe) if args.recipe else None
    with _torch_threads(args.threads):
        results = run_parameter_prediction(task, args.out, predictions=args.predictions, train_steps=args.train_steps,
                                           train_limit=args.train_limit, seed=args.seed, recipe=recipe,
                                           cache=args.cache, curve_networks=args.curve_networks,
                                           progress=not args.quiet)
    print(f"CIFAR-10 test accuracy ({results['metanet']['name']}): mean ± std over the n networks of each test "
          "split [95% CI: * = resampling architectures, else networks] {networks predicting one class}")
    print(parameter_prediction_table(results["metrics"]))
    print("What the predicted weights are worth: epochs of a sampled network's own training, rerun (and of training "
          "on all images), that reach their accuracy [95% CI over architectures]; architecture-ranking Kendall tau; "
          "fine-tuning from predicted minus from random init (paired)")
    print(anchors_table(results["anchors"]))
    print(f"wrote {args.out}/results.json" + ("" if args.predictions else f" and {args.out}/predictions/"))
    return 0


def _cmd_predict_parameters(args) -> int:
    from safetensors.torch import save_file

    from .metanets.ghn import GHN, predict_parameters
    from .nets.architectures import SpecError, build_model
    from .nets.factories import resolve_factory

    spec = json_loads(args.spec, "--spec", ValueError, _DEFAULT_DEPTH)
    if not isinstance(spec, dict):
        raise ValueError(f"--spec must be a JSON object, got {args.spec!r}")
    module = resolve_factory(args.factory, SpecError)(spec) if args.factory else build_model(spec)
    with _torch_threads(args.threads):
        ghn = GHN.load(args.ghn) if args.ghn else GHN.from_pretrained()
        state = predict_parameters(module, ghn)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, args.out)
    print(f"wrote {len(state)} tensors ({sum(v.numel() for v in state.values())} values) to {args.out}")
    return 0


@contextmanager
def _torch_threads(threads: int | None):
    """Run a block with ``threads`` torch CPU threads (``None``: torch's choice), restored after."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _cmd_submit(args) -> int:
    from .leaderboard.cli import run_submit

    return run_submit(args)


def _cmd_leaderboard(args) -> int:
    from .leaderboard.cli import run_leaderboard

    return run_leaderboard(args)


def _cmd_reproduce(args) -> int:
    from .leaderboard import BOARD_DIR, REGISTRY_NAME, known_zoos
    from .leaderboard.reproduce import reproduce

    outcome = reproduce(args.results, task=args.task, seed=args.seed, zoos=known_zoos(registry=BOARD_DIR / REGISTRY_NAME),
                        device=args.device, threads=args.threads, progress=not args.quiet)
    print(outcome.summary())
    return 0 if outcome.matches else 1


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


def _evaluate_job(args, task_name: str, name: str, cache: dict | None = None, on_run=None):
    """One (task, metanet) evaluation, written to ``args.out``: ``(results, line to print)``; ``results`` is
    ``None`` if the metanet cannot read the zoo and was only implied by ``--metanet all``. ``on_run()`` after each
    training run."""
    from .evaluation import evaluate_metanet, save_results
    from .metanets import MetanetNotApplicable
    from .tasks import get_task

    task = get_task(task_name, zoo=args.zoo, revision=args.revision)
    save_dir = Path(args.save_metanets) / f"{task_name}__{name}" if args.save_metanets else None
    epochs = args.epochs.get(name) if isinstance(args.epochs, dict) else args.epochs
    kept = _finished(args, task, name, epochs) if args.resume else None
    if kept is not None:
        return kept[0], f"kept {kept[1]} (same zoo, seeds, learning rates and epochs)"
    try:  # the command's one overall bar stands for the evaluation's own bars
        result = evaluate_metanet(task, name, seeds=range(args.seeds), epochs=epochs, lr_grid=args.lr_rates,
                                  device=args.device, progress=False, feature_cache=cache, save_dir=save_dir,
                                  on_run=on_run)
    except MetanetNotApplicable as e:
        if args.metanet != "all":
            raise
        return None, f"skipped {name} on {task_name}: {e}"
    return result, f"wrote {save_results(result, task, args.out)}"


def _finished(args, task, name: str, epochs: int | None):
    """``(results, path)`` of an earlier run of this request in ``args.out`` (``--resume``), else None."""
    from .evaluation import Results, ResultsFormatError, resolve_metanet
    from .evaluation.results import cross_zoo_ref
    from .metanets import TorchMetanet
    from .tasks import zoo_fingerprint

    path = _results_path(args, task.name, name)
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


def _evaluate_worker(args, task_name: str, name: str, runs_done):
    """:func:`_evaluate_job` in a worker process of ``--workers``: its own threads and allocator settings; each
    finished training run is put on the queue ``runs_done``."""
    keep_freed_memory()
    torch.set_num_threads(args.threads or 1)
    return _evaluate_job(args, task_name, name, on_run=partial(runs_done.put, (task_name, name)))


def _results_path(args, task_name: str, name: str) -> Path:
    return Path(args.out) / f"{task_name}__{name}.json"


def _worker_signals() -> None:
    """Worker processes leave Ctrl-C to the main process, which stops them (SIGTERM): they then exit
    cleanly (their locks released, nothing reported as leaked)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    _ignore_sigterm_first_at_exit()


def _ignore_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _ignore_sigterm_first_at_exit() -> None:
    """A worker already exiting (the pool told it to stop) ignores the SIGTERM that may follow, which would
    otherwise interrupt its exit handlers with a traceback: atexit runs handlers last registered first, so this
    (re-)registers the ignoring one after every handler registered so far (a job's, such as tqdm's monitor's)."""
    atexit.unregister(_ignore_sigterm)
    atexit.register(_ignore_sigterm)


def _worker_job(item):
    index, args, task_name, name, runs_done = item
    try:
        return index, _evaluate_worker(args, task_name, name, runs_done)
    finally:
        _ignore_sigterm_first_at_exit()


def _run_jobs(args, jobs: list[tuple[str, str]], finished: dict[int, object]) -> None:
    """Run every (task, metanet) job, here or in ``args.workers`` processes (which Ctrl-C in the main process
    stops), recording ``finished[job index] = results`` (``None``: skipped) as each ends, with one overall bar
    over their training runs and a line per finished job (none with ``--quiet``)."""
    from .evaluation import planned_runs
    from .progress import OverallProgress

    planned = {job: planned_runs(job[1], args.seeds, len(args.lr_rates)) for job in jobs}
    ticked = Counter()
    with OverallProgress(sum(planned.values()), "run", "evaluate", quiet=args.quiet) as progress:
        def tick(job):
            ticked[job] += 1
            progress.advance()

        def finish(index, outcome):
            finished[index], line = outcome
            left = planned[jobs[index]] - ticked[jobs[index]]  # a kept result's runs, or a skipped metanet's
            if finished[index] is None:
                progress.drop(left)
            else:
                progress.advance(left)
            progress.line(line)

        if args.workers == 1:
            cache: dict = {}
            for index, job in enumerate(jobs):
                finish(index, _evaluate_job(args, *job, cache=cache, on_run=partial(tick, job)))
        else:
            _run_in_workers(args, jobs, tick, finish)


def _run_in_workers(args, jobs: list[tuple[str, str]], tick, finish) -> None:
    """Each job in its own process, ``args.workers`` at a time, taken in order (spawned: torch is not fork-safe);
    ``tick(job)`` for each finished training run, then ``finish(job index, outcome)`` for each finished job."""
    from multiprocessing import TimeoutError, get_context

    context = get_context("spawn")
    with ExitStack() as stack:
        with _sigint_ignored():  # what is spawned now starts with Ctrl-C ignored, even while it imports
            manager = stack.enter_context(context.Manager())
            pool = stack.enter_context(context.Pool(min(args.workers, len(jobs)), initializer=_worker_signals))
        runs_done = manager.Queue()
        outcomes = pool.imap_unordered(_worker_job, [(i, args, *job, runs_done) for i, job in enumerate(jobs)])
        for _ in jobs:
            while True:
                try:
                    index, outcome = outcomes.next(timeout=1.0)
                    break
                except TimeoutError:
                    _drain(runs_done, tick)
            _drain(runs_done, tick)  # a worker puts its runs on the queue before its job is done
            finish(index, outcome)
        pool.close()  # every job is done: the workers exit on their own (terminating them is for Ctrl-C)
        pool.join()


@contextmanager
def _sigint_ignored():
    """SIGINT ignored inside (an ignored signal stays ignored in a spawned child, and Python then installs no
    KeyboardInterrupt handler there); the handler before it restored after."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _drain(queue, tick) -> None:
    from queue import Empty

    while True:
        try:
            tick(queue.get_nowait())
        except Empty:
            return


def _interrupted(args, jobs: list[tuple[str, str]], finished: dict[int, object], started: float) -> str:
    """The one line Ctrl-C ends ``gmn-bench evaluate`` with: the results files kept (those of the
    evaluations that ended, kept by ``--resume`` or written since ``started``, a worker's included
    while its answer was on the way) and how to go on."""
    paths = [_results_path(args, *job) for job in jobs]
    kept = [p.name for i, p in enumerate(paths)
            if finished.get(i) is not None or (p.exists() and p.stat().st_mtime >= started)]
    what = (f"kept {len(kept)} results file{'s' * (len(kept) != 1)} in {args.out}: {', '.join(kept)}" if kept
            else f"no results file was written to {args.out}")
    return (f"gmn-bench evaluate: interrupted; {what}; run the same command with --resume to keep "
            f"{'them' if kept else 'what ends'} and go on with the rest")


def _cmd_evaluate(args) -> int:
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
    finished: dict[int, object] = {}
    started = time.time()
    try:
        _run_jobs(args, jobs, finished)
    except KeyboardInterrupt:
        print(_interrupted(args, jobs, finished, started), file=sys.stderr)
        return 130
    finally:
        torch.set_num_threads(threads)
    results = [finished[i] for i in range(len(jobs)) if finished[i] is not None]
    print()
    print(comparison_table(results, [get_task(t, zoo=args.zoo, revision=args.revision) for t in tasks])
          if results else "no results")
    return 0


_DEFAULT_DEPTH = 16
_MAX_COUNT = 2**31 - 1
_MAX_SEED = 2**63 - 1


def _count(minimum: int, maximum: int = _MAX_COUNT):
    """An argparse type: an integer in ASCII digits from ``minimum`` to ``maximum`` (never silently
    replaced by a default; :func:`gmn_bench.intake.integer_text`)."""
    def parse(text: str) -> int:
        return integer_text(text, "", argparse.ArgumentTypeError, minimum, maximum)
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
    demo.add_argument("--seed", type=_count(0, _MAX_SEED), default=0)
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
    rep = sub.add_parser("reproduce", help="retrain one seed of a results file (e.g. a board entry) as it records it "
                         "and compare its test predictions with the stored ones (exit 1 on a mismatch)")
    rep.add_argument("results", help="results JSON file, or a folder of them (a board submission, evaluate's --out)")
    rep.add_argument("--task", default=None, help="the task's results file in the folder (needed if it holds several)")
    rep.add_argument("--seed", type=_count(0), default=0, help="the seed to retrain (default 0)")
    rep.add_argument("--device", default=None, help="torch device (default: the recorded one)")
    rep.add_argument("--threads", type=_count(1), default=None,
                     help="torch CPU threads (default: the recorded count; only that count reruns bitwise)")
    rep.add_argument("--quiet", action="store_true", help="no progress bars")
    rep.set_defaults(func=_cmd_reproduce)
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
                         "validation split (default: gmn_bench.evaluation.LR_GRID, 1e-3,3e-3)")
    ev.add_argument("--save-metanets", default=None, metavar="DIR",
                    help="save each trained torch metanet (chosen learning rate) to DIR/<task>__<metanet>/seed-<s>/")
    ev.add_argument("--out", default="results", help="folder for <task>__<metanet>.json and .png")
    ev.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    ev.add_argument("--threads", type=_count(1), default=None,
                    help="torch CPU threads (default: torch's choice; 1 per worker with --workers)")
    ev.add_argument("--workers", type=_count(1), default=1,
                    help="(task, metanet) evaluations run at once, each in its own process (the results are the "
                         "same as one by one)")
    ev.add_argument("--quiet", action="store_true",
                    help="no progress: neither the overall bar (runs done, time elapsed and left) nor a line per result")
    ev.add_argument("--resume", action="store_true",
                    help="keep the results already in --out of the same zoo, seeds, learning rates and epochs "
                         "(an interrupted run goes on where it stopped)")
    ev.set_defaults(func=_cmd_evaluate)
    pp = sub.add_parser("parameter-prediction", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                        help="train the reference GHNs (or score a predictions folder) on the parameter-prediction task")
    pp.add_argument("--zoo", default=str(DEFAULT_ZOO), help="zoo Hub repo id or folder (default: the embedded zoo)")
    pp.add_argument("--data", default="uoft-cs/cifar10",
                    help="CIFAR-10 Hub id (downloaded on first use) or local folder of the same layout")
    pp.add_argument("--test-limit", type=_count(1), default=None, help="score on the first N test images only (None = all)")
    pp.add_argument("--finetune-epochs", type=_count(0), default=1, help="fine-tuning epochs (0: no fine-tuning rows)")
    pp.add_argument("--finetune-limit", type=_count(1), default=1000, help="fine-tune on the first N training images")
    pp.add_argument("--train-steps", type=_count(1), default=3000,
                    help="training steps of each GHN (the budget curve in docs/parameter-prediction.md)")
    pp.add_argument("--train-limit", type=_count(1), default=None,
                    help="train the GHNs on the first N training images (None = all)")
    pp.add_argument("--recipe", default=None,
                    help="recipe TOML or builders/<name> folder whose architecture space the GHNs train on "
                         "(None = the zoo's train rows); test networks' architectures are always excluded")
    pp.add_argument("--seed", type=_count(0, _MAX_SEED), default=0, help="seed of GHN training and fine-tuning")
    pp.add_argument("--threads", type=_count(1), default=None, help="torch CPU threads (None = torch's choice)")
    pp.add_argument("--cache", default=str(DEFAULT_CACHE),
                    help="folder caching the reference scores (random init, trained weights) and rerun training curves "
                         "by zoo, data and settings")
    pp.add_argument("--curve-networks", type=_count(0, 10_000), default=20,
                    help="networks per test split (seeded sample) whose training is rerun, scored every epoch, for the "
                         "epochs-saved figure (0: none)")
    pp.add_argument("--out", default="parameter-prediction",
                    help="folder for the GHNs, predictions/, score logs and results.json (a rerun continues)")
    pp.add_argument("--predictions", default=None, help="score this folder of <model_id>.safetensors instead of the GHNs")
    pp.add_argument("--quiet", action="store_true", help="no progress bars")
    pp.set_defaults(func=_cmd_parameter_prediction)
    ppm = sub.add_parser("predict-parameters", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                         help="predict the parameters of one CIFAR-10 network with a GHN (no training)")
    ppm.add_argument("--spec", required=True, help="JSON spec: a gmn-bench spec, or the knobs passed to --factory")
    ppm.add_argument("--factory", default=None,
                     help="package.module:function (decorated with gmn_bench.nets.model_factory) called with the spec; "
                          "None = gmn_bench.build_model")
    ppm.add_argument("--ghn", default=None, help="folder of a saved GHN (None = the shipped GHN.from_pretrained())")
    ppm.add_argument("--out", required=True, help="safetensors file for the predicted state_dict")
    ppm.add_argument("--threads", type=_count(1), default=None, help="torch CPU threads (None = torch's choice)")
    ppm.set_defaults(func=_cmd_predict_parameters)
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
