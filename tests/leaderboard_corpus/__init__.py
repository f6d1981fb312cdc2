"""The leaderboard's test corpus: good submissions built from the embedded zoo's real test
networks (truth plus seeded noise), and one bad submission per kind of problem the
leaderboard must reject, each with the reason it must give.

:func:`results` makes a results file as ``gmn-bench evaluate`` writes it;
:func:`good_submission` packages one; :func:`build_corpus` writes a good submission and every
case of :data:`BAD` next to it (each bad one is a copy of the good one with one defect).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import pickle
import random
import shutil
import zlib
from functools import lru_cache
from urllib.parse import quote
from pathlib import Path
from typing import Callable

from gmn_bench.evaluation import MetanetInfo, Results, SeedResult
from gmn_bench.evaluation.provenance import code_fingerprint
from gmn_bench.metanets import METANETS
from gmn_bench.tasks import get_task, zoo_fingerprint
from gmn_bench.leaderboard import KnownZoo, known_zoos, package_submission, write_submission
from gmn_bench.leaderboard.validate import MAX_FILE_BYTES
from conftest import TEST_ZOO

REGRESSION_TASK, CLASSIFICATION_TASK = "accuracy-prediction", "hyperparameter-prediction-optimizer"


@lru_cache(maxsize=None)
def board_zoos() -> dict[str, KnownZoo]:
    """The zoos the board knows in these tests: the test zoo, registered explicitly."""
    return known_zoos(extra=(KnownZoo.at("cifar10-tiny (test zoo)", TEST_ZOO),))


@lru_cache(maxsize=None)
def _task(name: str):
    return get_task(name, zoo=TEST_ZOO)


def predictions(task_name: str, noise: float, seed: int) -> dict:
    """Test-split predictions: the truth plus Gaussian noise (regression) or a share ``noise`` of
    labels replaced by another class (classification), drawn from ``seed``."""
    task, rng = _task(task_name), random.Random(seed)
    truth = task.targets("test")
    if task.task_type == "regression":
        return {m: v + rng.gauss(0.0, noise) for m, v in truth.items()}
    return {m: (rng.choice([c for c in task.classes if c != v]) if rng.random() < noise else v) for m, v in truth.items()}


def results(task_name: str, metanet: str = "gmn", noise: float = 0.05, seeds=(0, 1, 2), n_params: int | None = 1234,
            created: str = "2026-11-23T06:00:00Z") -> dict:
    """A results file of ``metanet`` on ``task_name`` (test zoo), with honest claimed metrics."""
    task = _task(task_name)
    per_seed = []
    for seed in seeds:
        preds = predictions(task_name, noise, zlib.crc32(f"{metanet}/{seed}".encode()))
        per_seed.append(SeedResult(seed, task.evaluate(preds), preds, 3, 1.0))
    code = code_fingerprint(METANETS[metanet]) if metanet in METANETS else None  # as evaluate records it
    built = Results.build(task, zoo_fingerprint(TEST_ZOO), MetanetInfo(metanet, n_params, {}, code), {}, None, per_seed,
                          deterministic=False, total_seconds=1.0)
    environment = {"gmn_bench_version": "0.1.0", "git_commit": None, "python": "3.11.7", "torch": "2.13.0",
                   "hardware": {"cpu": "test", "cores": 2, "gpu": None}}
    return dataclasses.replace(built, created=created, environment=environment).to_json()


def write_results(folder: Path, documents: list[dict]) -> list[Path]:
    """Write results files as ``<folder>/<metanet>-<task>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for doc in documents:
        path = folder / f"{doc['metanet']['name']}-{doc['task']}.json"
        path.write_text(json.dumps(doc))
        paths.append(path)
    return paths


def good_submission(submissions: Path, metanet: str = "gmn", noise: float = 0.05,
                    submitted: str = "2026-11-23T07:00:00Z", tasks=(REGRESSION_TASK, CLASSIFICATION_TASK),
                    **kwargs) -> Path:
    """Package and write a valid submission of ``metanet`` on ``tasks``; returns its folder."""
    paths = write_results(submissions.parent / "results" / metanet, [results(t, metanet, noise, **kwargs) for t in tasks])
    package = package_submission(paths, authors=["Ada Lovelace"], code=f"https://example.org/{quote(metanet, safe='')}",
                                 paper="https://arxiv.org/abs/2312.04501", submitted=submitted, zoos=board_zoos())
    return write_submission(package, submissions)


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def _edit(name: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    """A defect: apply ``change`` to the parsed file ``name`` and write it back."""
    def apply(folder: Path) -> None:
        doc = _json(folder / name)
        change(doc)
        (folder / name).write_text(json.dumps(doc))
    return apply


def _edit_text(name: str, change: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        (folder / name).write_text(change((folder / name).read_text()))
    return apply


def _first_prediction(doc: dict) -> str:
    return next(iter(doc["per_seed"][0]["predictions"]))


def _set_prediction(value) -> Callable[[dict], None]:
    def change(doc):
        doc["per_seed"][0]["predictions"][_first_prediction(doc)] = value
    return change


def _duplicate_id(text: str) -> str:
    doc = json.loads(text)
    model_id = _first_prediction(doc)
    return text.replace('"predictions": {', f'"predictions": {{"{model_id}": 0.5, ', 1)


def _replace_file(name: str, content: bytes, mode: int = 0o644) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        (folder / name).write_bytes(content)
        os.chmod(folder / name, mode)
    return apply


def _symlink_results(folder: Path) -> None:
    target = folder.parent.parent / "outside.json"
    shutil.copy(folder / f"{REGRESSION_TASK}.json", target)
    (folder / f"{REGRESSION_TASK}.json").unlink()
    (folder / f"{REGRESSION_TASK}.json").symlink_to(target)


def _chmod_executable(folder: Path) -> None:
    os.chmod(folder / f"{REGRESSION_TASK}.json", 0o755)


def _oversize(folder: Path) -> None:
    with open(folder / f"{REGRESSION_TASK}.json", "ab") as f:  # still valid JSON: only the size is wrong
        f.write(b" " * (MAX_FILE_BYTES + 1))


def _subfolder(folder: Path) -> None:
    (folder / "extra").mkdir()


def _mislabelled_task(folder: Path) -> None:
    doc = _json(folder / f"{REGRESSION_TASK}.json")
    doc["task"] = "generalization-gap"
    (folder / f"{REGRESSION_TASK}.json").write_text(json.dumps(doc))


def _unknown_task(folder: Path) -> None:
    manifest = _json(folder / "submission.json")
    manifest["tasks"].append("accuracy-prediction-v9")
    (folder / "submission.json").write_text(json.dumps(manifest))
    shutil.copy(folder / f"{REGRESSION_TASK}.json", folder / "accuracy-prediction-v9.json")


def _pop(*keys) -> Callable[[dict], None]:
    def change(doc):
        for key in keys[:-1]:
            doc = doc[key]
        doc.pop(keys[-1])
    return change


def _set(value, *keys) -> Callable[[dict], None]:
    def change(doc):
        for key in keys[:-1]:
            doc = doc[key]
        doc[keys[-1]] = value
    return change


RESULTS_FILE = f"{REGRESSION_TASK}.json"
CLASS_FILE = f"{CLASSIFICATION_TASK}.json"
MANIFEST = "submission.json"
OTHER_FINGERPRINT = "sha256:" + "0" * 64

BAD: dict[str, tuple[Callable[[Path], None], str]] = {
    # predictions must cover exactly the zoo's test networks
    "missing-id": (_edit(RESULTS_FILE, lambda d: d["per_seed"][1]["predictions"].pop(_first_prediction(d))),
                   "seed 1: accuracy-prediction: 1 test networks have no prediction"),
    "extra-id": (_edit(RESULTS_FILE, _set(0.5, "per_seed", 0, "predictions", "not-a-test-net")),
                 "predictions are not test networks of this zoo"),
    "duplicate-id": (_edit_text(RESULTS_FILE, _duplicate_id), "duplicate JSON keys"),
    "duplicate-manifest-key": (_edit_text(MANIFEST, lambda t: t.replace('{', '{"authors": ["Eve"], ', 1)),
                               "duplicate JSON keys ['authors']"),
    # numbers and types
    "nan": (_edit(RESULTS_FILE, _set_prediction(math.nan)), "non-finite number NaN"),
    "infinity": (_edit(RESULTS_FILE, _set_prediction(-math.inf)), "non-finite number -Infinity"),
    "overflow": (_edit_text(RESULTS_FILE, lambda t: t.replace('"best_epoch": 3', '"best_epoch": 1e999', 1)),
                 "a number overflows to infinity"),
    "string-prediction": (_edit(RESULTS_FILE, _set_prediction("0.5")), "must be a real number, got str"),
    "bool-prediction": (_edit(RESULTS_FILE, _set_prediction(True)), "schema violation at per_seed/0/predictions"),
    "unknown-label": (_edit(CLASS_FILE, _set_prediction("rmsprop")), "must be one of ['adam', 'adamw', 'sgd']"),
    "string-n-params": (_edit(MANIFEST, _set("1234", "metanet", "n_params")), "schema violation at metanet/n_params"),
    "missing-per-seed": (_edit(RESULTS_FILE, _pop("per_seed")), "'per_seed' is a required property"),
    "seed-mismatch": (_edit(RESULTS_FILE, _set([0, 1, 7], "seeds")), "do not match seeds"),
    # task and zoo
    "unknown-task": (_unknown_task, "unknown tasks ['accuracy-prediction-v9']"),
    "mislabelled-task": (_mislabelled_task, "holds results of task 'generalization-gap'"),
    "wrong-config": (_edit(RESULTS_FILE, _set("ood_size", "config")), "config 'ood_size' is not accuracy-prediction's 'id'"),
    "unknown-fingerprint": (_edit(MANIFEST, _set(OTHER_FINGERPRINT, "zoo", "fingerprint")), "unknown zoo fingerprint"),
    "results-fingerprint": (_edit(RESULTS_FILE, _set(OTHER_FINGERPRINT, "zoo", "fingerprint")),
                            "zoo fingerprint 'sha256:000"),
    "wrong-revision": (_edit(MANIFEST, _set("v2.0", "zoo", "revision")), "not the stated revision 'v2.0'"),
    "other-metanet": (_edit(RESULTS_FILE, _set("someone-else", "metanet", "name")), "metanet name 'someone-else'"),
    # files and names
    "oversize": (_oversize, "over the 8388608-byte limit"),
    "pickle-file": (_replace_file("model.pkl", pickle.dumps({"x": 1})), "file name 'model.pkl' is not accepted"),
    "pickle-as-json": (_replace_file(RESULTS_FILE, pickle.dumps({"x": 1})), "accuracy-prediction.json: not a JSON text"),
    "executable-script": (_replace_file("run.sh", b"#!/bin/sh\necho hi\n", 0o755), "file name 'run.sh' is not accepted"),
    "executable-json": (_chmod_executable, "'accuracy-prediction.json' is executable"),
    "symlink-file": (_symlink_results, "'accuracy-prediction.json' is a symbolic link"),
    "odd-file-name": (_replace_file("Accuracy Prediction.json", b"{}"),
                      "file name 'Accuracy Prediction.json' is not accepted"),
    "dotdot-file-name": (_replace_file("..json", b"{}"), "file name '..json' is not accepted"),
    "extra-json": (_replace_file("notes.json", b"{}"), "unexpected ['notes.json']"),
    "subfolder": (_subfolder, "'extra' is not a plain file"),
    "missing-results": (lambda f: (f / CLASS_FILE).unlink(), f"missing ['{CLASS_FILE}']"),
    "missing-manifest": (lambda f: (f / MANIFEST).unlink(), "no submission.json manifest"),
    "manifest-id-traversal": (_edit(MANIFEST, _set("../../etc", "id")), "schema violation at id"),
    "manifest-id-absolute": (_edit(MANIFEST, _set("/etc/passwd", "id")), "schema violation at id"),
    "manifest-id-other": (_edit(MANIFEST, _set("someone-elses-id", "id")), "is not the folder name"),
    "javascript-link": (_edit(MANIFEST, _set("javascript:alert(1)", "metanet", "code")), "schema violation at metanet/code"),
    "not-json": (_replace_file(RESULTS_FILE, b"\xff\xfe garbage"), "not a JSON text"),
}
"""kind -> (defect applied to a copy of a good submission, part of the reason it must be rejected with)."""

BAD_FOLDERS: dict[str, str] = {
    "Bad Name!": "is not a submission id",
    "a..b": "is not a submission id",
    "symlinked-folder": "is not a plain folder",
}
"""Submission folders whose very name or kind is wrong -> part of the rejection reason."""


def _copy(good: Path, submissions: Path, name: str) -> Path:
    folder = submissions / name
    shutil.copytree(good, folder, symlinks=True)
    manifest = _json(folder / MANIFEST)
    manifest["id"] = name
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return folder


def build_corpus(submissions: Path, good: Path) -> dict[str, str]:
    """Write every bad case next to the good submission ``good`` in ``submissions``; returns
    ``folder name -> expected reason`` for all of them."""
    expected = {}
    for kind, (defect, reason) in BAD.items():
        defect(_copy(good, submissions, f"bad-{kind}"))
        expected[f"bad-{kind}"] = reason
    for name, reason in BAD_FOLDERS.items():
        if name == "symlinked-folder":
            (submissions / name).symlink_to(good, target_is_directory=True)
        else:
            _copy(good, submissions, "tmp-copy").rename(submissions / name)
        expected[name] = reason
    return expected
