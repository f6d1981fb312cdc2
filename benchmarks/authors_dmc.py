"""The GMN authors' DMC batched the way their code batches, through this package's protocol: is ``dmc``
within the authors' seed spread on this zoo?

``dmc`` (:mod:`gmn_bench.metanets.dmc`) is the authors' ``DMCCNN`` (``cptq/asymmetric-networks``,
``metanet/models.py``, commit ``7895e5c6ce6691d4b5a090d1527207d789dad93f``) with per-network pooling
for networks of different lengths. The authors' module itself reads a dense ``[B, N]`` batch of
equal-length networks; the minimal way to feed it this zoo's networks is to zero-pad each batch to
its longest network and run the module unchanged. Then BatchNorm's statistics and the readout's mean
also cover the padding, so a network's features depend on how much shorter it is than the longest
network of its batch. That is :class:`PaddedAuthorsDMC` (``authors-dmc``): the same parameters as
``dmc``, the authors' forward on the padded batch. Before training, the script checks that on an
equal-length batch it gives ``dmc``'s outputs (which ``tests/test_faithful_baselines.py`` pins to a
transcription of the authors' module), in training and in eval mode.

The script trains it with the standard protocol (:func:`gmn_bench.evaluation.evaluate_metanet`: the
same epochs, batch size, optimizer and epoch selection as ``dmc``) at one learning rate for the given
seeds and writes the results file. :func:`compare` prints both metanets' per-seed Kendall tau and
R², and the paired difference on the same test networks, against a ``dmc`` results file of the same
zoo (e.g. the board's). Several processes may each run some seeds (``--seeds 0,1`` and
``--seeds 2,3``); ``--compare`` then reads all their files.

    OMP_NUM_THREADS=1 python benchmarks/authors_dmc.py --seeds 0,1 --out authors-dmc
    python benchmarks/authors_dmc.py --compare leaderboard/.../accuracy-prediction__dmc.json \
        authors-dmc/*.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_dense_batch

from gmn_bench.evaluation import evaluate_metanet
from gmn_bench.evaluation.stats import paired_difference
from gmn_bench.metanets import DMC
from gmn_bench.tasks import get_task


class PaddedAuthorsDMC(DMC):
    """The authors' ``DMCCNN`` forward on a batch zero-padded to its longest network (at least
    :attr:`~gmn_bench.metanets.DMC.min_length`): plain BatchNorm over every position, the readout's
    mean over every position, padding included."""

    name = "authors-dmc"

    def forward(self, batch: Batch) -> torch.Tensor:
        h = to_dense_batch(batch.x[:, 0], batch.batch)[0]
        h = torch.nn.functional.pad(h, (0, max(0, self.min_length - h.shape[1])))[:, None]
        for block in self.convs:
            h = block(h)
        readout = self.readout
        return readout.post_pool(readout.pre_pool(h.transpose(1, 2)).mean(1))


def check_equal_length_agreement() -> None:
    """Raise ``AssertionError`` unless :class:`PaddedAuthorsDMC` and ``dmc`` with the same weights give the
    same outputs on a batch of networks of one length (training and eval mode; float32, 1e-5)."""
    generator = torch.Generator().manual_seed(0)
    batch = Batch.from_data_list([Data(x=torch.randn(3000, 1, generator=generator) * scale) for scale in (0.1, 1, 3)])
    padded, package = PaddedAuthorsDMC(out_dim=1), DMC(out_dim=1)
    package.load_state_dict(padded.state_dict())
    for training in (True, False):
        padded.train(training), package.train(training)
        torch.testing.assert_close(padded(batch), package(batch), atol=1e-5, rtol=1e-5)


def compare(package_file: str, authors_files: list[str]) -> None:
    """Print per-seed tau and R² of ``dmc`` (``package_file``) and of the authors' DMC (the seeds of all
    ``authors_files``), and the paired difference authors − package on the same test networks."""
    package = json.loads(Path(package_file).read_text())
    authors = [s for f in authors_files for s in json.loads(Path(f).read_text())["per_seed"]]
    task = get_task(package["task"], zoo=package["zoo"]["path_or_repo_id"])
    truth = task.targets("test")
    ids = list(package["per_seed"][0]["predictions"])
    y = [truth[m] for m in ids]
    for label, seeds in (("dmc", package["per_seed"]), ("authors-dmc", authors)):
        for metric in ("kendall_tau", "r2"):
            values = [s["metrics"][metric] for s in seeds]
            mean = sum(values) / len(values)
            std = (sum((v - mean) ** 2 for v in values) / max(1, len(values) - 1)) ** 0.5
            print(f"{label:12s} {metric:12s} {mean:+.3f} ± {std:.3f} over {len(values)} seeds: "
                  + ", ".join(f"{v:+.3f}" for v in values))
    for metric in ("kendall_tau", "r2"):
        difference = paired_difference(metric, y, [[s["predictions"][m] for m in ids] for s in authors],
                                       [[s["predictions"][m] for m in ids] for s in package["per_seed"]])
        print(f"authors-dmc - dmc {metric}: {difference[0]:+.3f} [{difference[1]:+.3f}, {difference[2]:+.3f}] "
              f"(paired, n = {len(ids)} test networks)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3", help="comma-separated seeds this process trains")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate (dmc's chosen rate on the board)")
    parser.add_argument("--task", default="accuracy-prediction")
    parser.add_argument("--out", default="authors-dmc", help="folder for the results file")
    parser.add_argument("--compare", nargs="+", metavar="FILE",
                        help="a dmc results file, then the authors-dmc results files: print the comparison only")
    args = parser.parse_args()
    if args.compare:
        compare(args.compare[0], args.compare[1:])
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    check_equal_length_agreement()
    results = evaluate_metanet(get_task(args.task), PaddedAuthorsDMC, seeds=seeds, lr_grid=[args.lr])
    out = Path(args.out) / f"{args.task}__authors-dmc__seeds-{'-'.join(map(str, seeds))}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    print(results.save(out))


if __name__ == "__main__":
    main()
