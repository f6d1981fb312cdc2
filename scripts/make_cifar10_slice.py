"""Regenerate ``tests/data/cifar10-slice``: a small, class-balanced CIFAR-10 slice for the tests.

It takes, deterministically, the first ``--train-per-class`` training images and the first ``--test-per-class`` test
images of every class, interleaved class after class (so every prefix of ``10 k`` images is balanced), from a local
copy of CIFAR-10 laid out like the Hub dataset ``uoft-cs/cifar10``, and writes the same layout (a ``README.md`` card with ``configs``, and
``plain_text/{train,test}-00000-of-00001.parquet`` with columns ``img`` {bytes, path} and ``label``). The images'
PNG bytes are copied unchanged, so every pixel is the original one::

    python scripts/make_cifar10_slice.py --source ../shared/cifar10-fulltrain --out tests/data/cifar10-slice
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SPLITS = ("train", "test")


def first_per_class(table, per_class: int):
    """The first ``per_class`` rows of every label of ``table``, interleaved class after class (the first image of
    each class in class order, then the second, ...), so that every prefix of ``10 * k`` rows is class-balanced."""
    by_class = [[] for _ in CLASSES]
    for index, label in enumerate(table.column("label").to_pylist()):
        by_class[label].append(index)
    if min(len(rows) for rows in by_class) < per_class:
        raise ValueError(f"the source has fewer than {per_class} images of some class")
    return table.take([rows[k] for k in range(per_class) for rows in by_class])


def _card(counts: dict[str, int], per_class: dict[str, int], source: str) -> str:
    names = "\n".join(f"          '{i}': {name}" for i, name in enumerate(CLASSES))
    return f"""---
pretty_name: CIFAR-10 (test slice, {counts['train']:,} train / {counts['test']:,} test images)
license: unknown
task_categories:
- image-classification
dataset_info:
  config_name: plain_text
  features:
  - name: img
    dtype: image
  - name: label
    dtype:
      class_label:
        names:
{names}
configs:
- config_name: plain_text
  data_files:
  - split: train
    path: plain_text/train-*
  - split: test
    path: plain_text/test-*
  default: true
---

# CIFAR-10 test slice

Real CIFAR-10 images (Krizhevsky, 2009) for gmn-bench's tests, laid out exactly like the Hugging Face Hub dataset
`uoft-cs/cifar10`: config `plain_text`, columns `img` (PNG bytes, `path` null) and `label` (class id, same names and
ids), splits `train` and `test`. `datasets.load_dataset("tests/data/cifar10-slice", split="train")` reads it
offline, as `load_dataset("uoft-cs/cifar10")` reads the Hub copy.

* `train`: the first {per_class['train']} training images of each class ({counts['train']:,} images).
* `test`: the first {per_class['test']} test images of each class ({counts['test']:,} images).

Classes are interleaved (the first image of each class in class order, then the second, ...), so the first `10 k`
images of a split hold `k` of every class: tests read prefixes.

Source: the lossless offline copy `{source}` (all 50,000 training images in data_batch_1..5 order, and the first
1,000 images of test_batch); PNG bytes are copied unchanged. Regenerate with

    python scripts/make_cifar10_slice.py --source {source} --out tests/data/cifar10-slice

Figures measured on this slice are slice figures: it is for tests, not for measuring accuracy.
"""


def make_slice(source: Path, out: Path, train_per_class: int, test_per_class: int, source_name: str) -> None:
    """Write the slice of ``source`` to ``out`` (see the module docstring)."""
    per_class = {"train": train_per_class, "test": test_per_class}
    counts = {}
    (out / "plain_text").mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        files = sorted((source / "plain_text").glob(f"{split}-*.parquet"))
        table = first_per_class(pa.concat_tables(pq.read_table(f) for f in files), per_class[split])
        pq.write_table(table, out / "plain_text" / f"{split}-00000-of-00001.parquet")
        counts[split] = table.num_rows
    (out / "README.md").write_text(_card(counts, per_class, source_name))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="../shared/cifar10-fulltrain")
    parser.add_argument("--out", default="tests/data/cifar10-slice")
    parser.add_argument("--train-per-class", type=int, default=100)
    parser.add_argument("--test-per-class", type=int, default=50)
    args = parser.parse_args(argv)
    make_slice(Path(args.source), Path(args.out), args.train_per_class, args.test_per_class, args.source)


if __name__ == "__main__":
    main()
