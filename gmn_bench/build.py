"""Build a zoo from a recipe: train every network, crash-safely, on a local process pool or Ray.

Finished networks go to an append-only work folder beside the zoo (``<zoo>.parts/``): each
network's rows are written to ``parts/<model_id>.parquet`` through a temporary file and an
atomic rename, and only then is its id appended (and fsynced) to ``manifest.jsonl``. The
manifest is the truth: killing the build at any moment loses at most the networks in
flight, and rerunning the same command trains only what the manifest lacks. Networks are
trained from their own seeds, so the resumed zoo equals an uninterrupted build. When every
network is done, the rows are given their splits and written as a Hub-style zoo folder.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Iterator

import datasets
import torch
from tqdm.auto import tqdm

from .architectures import build_model
from .recipes import HYPERPARAMETERS, Recipe
from .splits import assign_splits
from .zoo_io import make_row, write_zoo
from .zoo_schema import features_for

DEFAULT_DATA = "uoft-cs/cifar10"
_DATA: dict = {}


def _load_data(source: str, train_limit: int | None, test_limit: int | None) -> None:
    from .cifar import load_cifar10

    key = (source, train_limit, test_limit)
    if _DATA.get("key") != key:
        _DATA.update(key=key, train=load_cifar10(source, "train", train_limit), test=load_cifar10(source, "test", test_limit))


def train_configuration(config: dict, recipe: Recipe, source: str, train_limit=None, test_limit=None) -> list[dict]:
    """Train one sampled configuration and return its zoo rows, one per checkpoint epoch.

    Trains single-threaded (as every worker does, so any executor gives the same bits) and
    restores the caller's thread count afterwards."""
    from .training import train_network

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _load_data(source, train_limit, test_limit)
        hparams = {k: config[k] for k in (*HYPERPARAMETERS, "init_seed", "data_seed")}
        checkpoints = train_network(config["spec"], hparams, _DATA["train"], _DATA["test"], recipe.checkpoint_epochs)
    finally:
        torch.set_num_threads(threads)
    module = build_model(config["spec"])
    rows = []
    for epoch, state, metrics in checkpoints:
        module.load_state_dict(state)
        rows.append(make_row(config["model_id"], config["spec"], module, epoch=epoch, **hparams, **metrics))
    return rows


class _WorkFolder:
    """The append-only store of finished networks: atomic part files plus an fsynced manifest."""

    def __init__(self, path: Path):
        self.path = path
        (path / "parts").mkdir(parents=True, exist_ok=True)
        self.manifest = path / "manifest.jsonl"

    def done(self) -> set[str]:
        if not self.manifest.exists():
            return set()
        done = set()
        for line in self.manifest.read_text().splitlines():
            try:
                done.add(json.loads(line)["model_id"])
            except (json.JSONDecodeError, KeyError):
                continue  # a line torn by a kill: that network is simply trained again
        return {m for m in done if self.part(m).exists()}

    def part(self, model_id: str) -> Path:
        return self.path / "parts" / f"{model_id}.parquet"

    def add(self, rows: list[dict]) -> None:
        model_id = rows[0]["model_id"]
        tmp = self.part(model_id).with_suffix(".tmp")
        datasets.Dataset.from_list(rows, features=features_for(rows[0])).to_parquet(str(tmp))
        os.replace(tmp, self.part(model_id))
        with open(self.manifest, "a") as f:
            f.write(json.dumps({"model_id": model_id}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def rows(self, model_ids: list[str]) -> Iterator[dict]:
        for model_id in model_ids:
            yield from datasets.Dataset.from_parquet(str(self.part(model_id)), keep_in_memory=True).to_list()


def _share_data(data: dict) -> None:
    _DATA.update(data)


def _run_local(todo, recipe, source, limits, workers) -> Iterator[list[dict]]:
    if workers == 1:
        for config in todo:
            yield train_configuration(config, recipe, source, *limits)
        return
    import multiprocessing

    # workers get the parent's already-decoded images once, instead of each re-reading the dataset
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_share_data, initargs=(dict(_DATA),)) as pool:
        futures = [pool.submit(train_configuration, c, recipe, source, *limits) for c in todo]
        for future in as_completed(futures):
            yield future.result()


def _run_ray(todo, recipe, source, limits, address) -> Iterator[list[dict]]:
    try:
        import ray
    except ImportError as e:
        raise RuntimeError("the ray executor needs Ray: pip install 'gmn-bench[distributed]'") from e
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(num_cpus=1)(train_configuration)
    pending = [remote.remote(c, recipe, source, *limits) for c in todo]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])


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
    progress: bool = True,
) -> Path:
    """Train (or resume) the recipe's networks and write the zoo folder ``out``.

    ``data`` is the CIFAR-10 Hub id or a local folder of the same layout; ``n_networks``,
    ``train_limit`` and ``test_limit`` shrink the build (tests, the embedded default).
    ``executor`` is ``local`` (a process pool of ``workers``, default all cores) or ``ray``
    (``address`` of the cluster; None starts a local Ray).
    """
    datasets.disable_progress_bars()  # one bar for the build, not one per shard
    out = Path(out)
    _load_data(data, train_limit, test_limit)  # fail fast on bad data, and count what the networks see
    n_train, n_test = len(_DATA["train"][1]), len(_DATA["test"][1])
    configs = recipe.configurations()[: n_networks or recipe.n_networks]
    work = _WorkFolder(Path(f"{out}.parts"))
    done = work.done()
    todo = [c for c in configs if c["model_id"] not in done]
    limits = (train_limit, test_limit)
    if executor == "local":
        results = _run_local(todo, recipe, data, limits, workers or os.cpu_count() or 1)
    elif executor == "ray":
        results = _run_ray(todo, recipe, data, limits, address)
    else:
        raise ValueError(f"unknown executor {executor!r}; expected 'local' or 'ray'")
    with tqdm(total=len(configs), initial=len(configs) - len(todo), unit="net", desc=recipe.name, disable=not progress) as bar:
        for rows in results:
            work.add(rows)
            bar.update()
    rows = assign_splits(list(work.rows([c["model_id"] for c in configs])), recipe.held_out_family, recipe.size_quantile)
    description = (f"{recipe.description}\n\nBuilt by gmn-bench from recipe `{recipe.name}` (seed {recipe.seed}): "
                   f"trained on {n_train:,} CIFAR-10 training images and scored on {n_test:,} test images from `{data}`"
                   + (" (a subset of CIFAR-10's 50,000/10,000: accuracies are subset figures)" if n_train < 50_000 else "")
                   + ".")
    return write_zoo(rows, out, name=recipe.name, description=description, overwrite=True)
