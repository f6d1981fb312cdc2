"""Build a zoo from a recipe: train every network, crash-safely, on a local process pool or Ray.

Finished networks go to an append-only work folder beside the zoo (``<zoo>.parts/``): each
network's rows are written to ``parts/<model_id>.parquet`` through a temporary file and an
atomic rename, and only then is its id appended (and fsynced) to ``manifest.jsonl``. The
manifest is the truth: killing the build at any moment loses at most the networks in
flight, and rerunning the same command trains only what the manifest lacks. Networks are
trained from their own seeds, so the resumed zoo equals an uninterrupted build (bitwise on
CPU, where networks train one by one; to float tolerance on CUDA or in groups). Each network's
rows record the precision it was trained in, so a resumed build keeps the finished networks'
precision whatever the rerun asks for. When every network is done, the rows are given their
splits and written as a Hub-style zoo folder.
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Iterator

import datasets
import torch
from tqdm.auto import tqdm

from ..nets.architectures import build_model
from ..nets.precision import resolve_precision
from ..nets.training import prepare_data, resolve_device, train_network, training_precision
from ..zoo.card import final_checkpoints
from ..zoo.io import make_row, write_zoo
from ..zoo.schema import features_for
from ..zoo.splits import assign_splits
from .grouped import can_group, group_key, train_group
from .recipes import HYPERPARAMETERS, Recipe

DEFAULT_DATA = "uoft-cs/cifar10"
_DATA: dict = {}


def _load_data(source: str, train_limit: int | None, test_limit: int | None) -> None:
    from ..nets.cifar import load_cifar10

    key = (source, train_limit, test_limit)
    if _DATA.get("key") != key:
        _DATA.update(key=key, train=load_cifar10(source, "train", train_limit), test=load_cifar10(source, "test", test_limit))


def _prepared(device: str):
    """The decoded images, normalised and moved to ``device`` once per process."""
    if _DATA.get("prepared_on") != (_DATA["key"], device):
        _DATA.update(prepared_on=(_DATA["key"], device),
                     prepared=(prepare_data(_DATA["train"], device), prepare_data(_DATA["test"], device)))
    return _DATA["prepared"]


def train_configurations(configs: list[dict], recipe: Recipe, source: str, train_limit=None, test_limit=None,
                         device: str = "cpu", grouped: bool = False) -> list[tuple[list[dict], float]]:
    """Train sampled configurations (each in its ``precision``, float32 if it has none) and return,
    for each, its zoo rows (one per checkpoint epoch) and its training time in seconds (CPU time of
    the worker on CPU, wall time on CUDA; a group's time is shared equally by its networks).

    One by one (``grouped=False``, bitwise deterministic on CPU), or as one vmapped group
    (``grouped=True``: the configurations must share a :func:`~gmn_bench.grouped_training.group_key`).
    Trains single-threaded on CPU (as every worker does, so any executor gives the same bits)
    and restores the caller's thread count afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _load_data(source, train_limit, test_limit)
        train, test = _prepared(device)
        clock = time.process_time if device == "cpu" else time.perf_counter  # CPU: core-seconds, robust to a busy machine
        start = clock()
        hparams = [{**{k: c[k] for k in (*HYPERPARAMETERS, "init_seed", "data_seed")},
                    "precision": training_precision(c)} for c in configs]
        eval_images = recipe.train_eval_images
        if grouped:
            checkpoints = train_group(configs[0]["spec"], hparams, train, test, recipe.checkpoints(configs[0]["epochs"]),
                                      device=device, train_eval_images=eval_images)
        else:
            checkpoints = [train_network(c["spec"], hp, train, test, recipe.checkpoints(c["epochs"]), device=device,
                                         train_eval_images=eval_images)
                           for c, hp in zip(configs, hparams)]
        seconds = (clock() - start) / len(configs)
    finally:
        torch.set_num_threads(threads)
    return [(_rows(c, hp, cps), seconds) for c, hp, cps in zip(configs, hparams, checkpoints)]


def _rows(config: dict, hparams: dict, checkpoints) -> list[dict]:
    module = build_model(config["spec"])
    rows = []
    for epoch, state, metrics in checkpoints:
        module.load_state_dict(state)
        rows.append(make_row(config["model_id"], config["spec"], module, epoch=epoch, **hparams, **metrics))
    return rows


def _tasks(todo: list[dict], grouped: bool, group_size: int) -> list[tuple[list[dict], bool]]:
    """Split the work into tasks ``(configs, grouped)``: groups of up to ``group_size`` networks that
    share a group key (when ``grouped``), and single networks for everything else."""
    if not grouped:
        return [([c], False) for c in todo]
    groups: dict[tuple, list[dict]] = {}
    singles = []
    for c in todo:
        (groups.setdefault(group_key(c), []) if can_group(c["spec"]) else singles).append(c)
    chunks = [g[i:i + group_size] for g in groups.values() for i in range(0, len(g), group_size)]
    return [(chunk, len(chunk) > 1) for chunk in chunks] + [([c], False) for c in singles]


class _WorkFolder:
    """The append-only store of finished networks: atomic part files plus an fsynced manifest."""

    def __init__(self, path: Path):
        self.path = path
        (path / "parts").mkdir(parents=True, exist_ok=True)
        self.manifest = path / "manifest.jsonl"

    def seconds(self) -> dict[str, float | None]:
        """Finished networks (their manifest entry and part file both present) -> training seconds."""
        if not self.manifest.exists():
            return {}
        done = {}
        for line in self.manifest.read_text().splitlines():
            try:
                entry = json.loads(line)
                done[entry["model_id"]] = entry.get("seconds")
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line torn by a kill: that network is simply trained again
        return {m: t for m, t in done.items() if self.part(m).exists()}

    def done(self) -> set[str]:
        return set(self.seconds())

    def part(self, model_id: str) -> Path:
        return self.path / "parts" / f"{model_id}.parquet"

    def add(self, rows: list[dict], seconds: float) -> None:
        model_id = rows[0]["model_id"]
        tmp = self.part(model_id).with_suffix(".tmp")
        datasets.Dataset.from_list(rows, features=features_for(rows[0])).to_parquet(str(tmp))
        os.replace(tmp, self.part(model_id))
        with open(self.manifest, "a") as f:
            f.write(json.dumps({"model_id": model_id, "seconds": round(seconds, 3)}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def rows(self, model_ids: list[str]) -> Iterator[dict]:
        for model_id in model_ids:
            yield from datasets.Dataset.from_parquet(str(self.part(model_id)), keep_in_memory=True).to_list()


def _share_data(data: dict) -> None:
    _DATA.update(data)


def _run_local(tasks, run, workers) -> Iterator[list[dict]]:
    workers = min(workers, len(tasks))
    if workers <= 1:
        for configs, grouped in tasks:
            yield from train_configurations(configs, *run, grouped=grouped)
        return
    import multiprocessing

    # workers get the parent's already-decoded images once, instead of each re-reading the dataset
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_share_data, initargs=({k: _DATA[k] for k in ("key", "train", "test")},)) as pool:
        futures = [pool.submit(train_configurations, configs, *run, grouped=grouped) for configs, grouped in tasks]
        for future in as_completed(futures):
            yield from future.result()


def _run_ray(tasks, run, address) -> Iterator[list[dict]]:
    try:
        import ray
    except ImportError as e:
        raise RuntimeError("the ray executor needs Ray: pip install 'gmn-bench[distributed]'") from e
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(num_cpus=1, num_gpus=1 if run[-1] == "cuda" else 0)(train_configurations)
    pending = [remote.remote(configs, *run, grouped=grouped) for configs, grouped in tasks]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield from ray.get(ready[0])


def build_zoo(
    recipe: Recipe,
    out: str | Path,
    *,
    data: str = DEFAULT_DATA,
    n_networks: int | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    device: str = "auto",
    precision: str | None = None,
    grouped: bool | None = None,
    group_size: int = 16,
    final_copy: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Train (or resume) the recipe's networks and write the zoo folder ``out``.

    ``data`` is the CIFAR-10 Hub id or a local folder of the same layout; ``n_networks``,
    ``train_limit`` and ``test_limit`` shrink the build (tests, the embedded default).
    ``executor`` is ``local`` (a process pool of ``workers``, default all cores) or ``ray``
    (``address`` of the cluster; None starts a local Ray). ``device`` is ``cpu``, ``cuda`` or
    ``auto`` (CUDA when available); on CUDA the local pool defaults to one worker.
    ``precision`` (``auto``, ``float32`` or ``bfloat16``; None: the recipe's) is resolved per
    network's family and the device by :func:`~gmn_bench.nets.precision.resolve_precision` and
    recorded in the zoo's ``precision`` column; networks already finished keep theirs.
    ``grouped`` trains up to ``group_size`` same-shape networks at once with ``torch.func``
    (see :mod:`gmn_bench.build.grouped`); the default, None, groups on CUDA only, because on
    CPU only one-by-one training is bitwise deterministic (and resumes to the same zoo).
    ``final_copy`` also writes a zoo folder of each network's final checkpoint only (the embedded
    copy shipped in the package), with a card that says so.
    """
    datasets.disable_progress_bars()  # one bar for the build, not one per shard
    out = Path(out)
    _load_data(data, train_limit, test_limit)  # fail fast on bad data, and count what the networks see
    n_train, n_test = len(_DATA["train"][1]), len(_DATA["test"][1])
    configs = recipe.configurations()[: n_networks or recipe.n_networks]
    work = _WorkFolder(Path(f"{out}.parts"))
    done = work.done()
    device = resolve_device(device)
    requested = recipe.precision if precision is None else precision
    todo = [{**c, "precision": resolve_precision(requested, c["spec"]["family"], device)}
            for c in configs if c["model_id"] not in done]
    if group_size < 1:
        raise ValueError(f"group_size must be a positive number of networks, got {group_size}")
    tasks = _tasks(todo, device == "cuda" if grouped is None else grouped, group_size)
    run = (recipe, data, train_limit, test_limit, device)
    if executor == "local":
        results = _run_local(tasks, run, workers or (1 if device == "cuda" else os.cpu_count() or 1))
    elif executor == "ray":
        results = _run_ray(tasks, run, address)
    else:
        raise ValueError(f"unknown executor {executor!r}; expected 'local' or 'ray'")
    with tqdm(total=len(configs), initial=len(configs) - len(todo), unit="net", desc=recipe.name, disable=not progress) as bar:
        for rows, seconds in results:
            work.add(rows, seconds)
            bar.update()
    rows = assign_splits(list(work.rows([c["model_id"] for c in configs])), recipe.held_out_family,
                         recipe.ood_size_min_params, recipe.id_fractions)
    description = "\n\n".join([recipe.description, _data_statement(recipe, data, n_train, n_test),
                                 training_cost(rows, work.seconds(), device)])
    folder = write_zoo(rows, out, name=recipe.name, description=description, overwrite=True)
    if final_copy is not None:
        note = (f"**This copy holds each network's final checkpoint only** (the one every gmn-bench task reads). The "
                f"full zoo, with checkpoints at epochs {', '.join(map(str, recipe.checkpoint_epochs))} (and each "
                f"network's last epoch), is what `gmn-bench publish` uploads; `gmn-bench build builders/{recipe.name}` "
                "regenerates it.")
        write_zoo(final_checkpoints(rows), final_copy, name=recipe.name, description=f"{note}\n\n{description}",
                  overwrite=True)
    return folder


def _data_statement(recipe: Recipe, data: str, n_train: int, n_test: int) -> str:
    """What the networks were trained and scored on, as the card must say it."""
    fractions = {c["train_fraction"] for c in recipe.configurations()}
    share = ("all of them" if fractions == {1.0} else
             f"the first `train_fraction` of them, a share sampled per network ({min(fractions):.0%} to "
             f"{max(fractions):.0%})")
    se = 100 * (0.25 / n_test) ** 0.5
    source = (f"a local copy of CIFAR-10 in the layout of `{DEFAULT_DATA}` (folder `{Path(data).name}`)"
              if Path(data).is_dir() else f"`{data}`")
    lines = [f"Built by gmn-bench from recipe `{recipe.name}` (seed {recipe.seed}) on {source}: {n_train:,} CIFAR-10 "
             f"training images, of which each network trains on {share}.",
             f"Test accuracy (`test_acc`) is measured on {n_test:,} test images"
             + (f" (the first {n_test:,} of CIFAR-10's 10,000-image test set: standard error about {se:.1f} points at "
                "50% accuracy; do not compare with full-test-set figures)" if n_test < 10_000 else "") + "."]
    if n_train < 50_000:
        lines.append("The training set is a subset of CIFAR-10's 50,000 images: accuracies are subset figures.")
    if recipe.train_eval_images:
        lines.append(f"Train accuracy and loss are measured on the first {recipe.train_eval_images:,} of each "
                     "network's training images.")
    return " ".join(lines)


def training_cost(rows: list[dict], seconds: dict[str, float | None], device: str) -> str:
    """Markdown table of the build's training time per family and training precision: networks,
    seconds per network (mean, median, max) and the total, from each network's recorded training time."""
    family = {r["model_id"]: f"{r['family']}, {training_precision(r)}" for r in rows}
    timed = [(family[m], t) for m, t in seconds.items() if t is not None and m in family]
    if not timed:
        return "Training time: not recorded."
    lines = [f"## Training cost ({'CPU seconds of one thread' if device == 'cpu' else device + ' wall seconds'} "
             "per network)", "",
             "| family | networks | seconds per network (mean, median, max) | total hours |", "|---|---|---|---|"]
    for name in sorted({f for f, _ in timed}) + ["all"]:
        times = sorted(t for f, t in timed if name in (f, "all"))
        lines.append(f"| {name} | {len(times)} | {sum(times) / len(times):.1f}, {times[len(times) // 2]:.1f}, "
                     f"{times[-1]:.1f} | {sum(times) / 3600:.2f} |")
    return "\n".join(lines)
