"""GMN training cost: this checkout side by side with a baseline revision, as ratios.

Both run the same measurement in their own subprocess (so peak memory is each one's own): the
baseline's source is exported with ``git archive REV`` (default fe5ce38: graph format v2, hand-written
builders, the GMN before its learning fix) and put first on ``PYTHONPATH``. On the same zoo rows
(default: the embedded zoo's ``id`` split), one thread, each reports:

* featurizing: seconds per graph, edges per graph, bytes of the graphs;
* one training epoch (batch 32, Adam 1e-3, binary cross-entropy on test accuracy) over the first
  ``--graphs`` training networks: seconds, and the peak resident memory that training (a warm-up
  batch and the epoch) adds to the featurized graphs (Linux: the peak is reset through
  ``/proc/self/clear_refs``);
* one training step on a batch of the 32 largest MLP graphs (3,072 input pixels): seconds and the
  peak memory it adds;
* the score reached: a fresh GMN (same seed) trained ``--epochs`` epochs (default 3) on those networks,
  then Kendall's tau on the id validation split (the protocol's model-selection score) and Kendall's
  tau and R^2 on the id test split, so a faster epoch is not bought with accuracy.

Training runs as the protocol trains: :meth:`TorchMetanet.accumulate_gradient` where the revision has
it, else its ``micro_batches`` parts, else the whole batch.

    python benchmarks/gmn_training.py [--zoo PATH] [--baseline REV] [--graphs 256] [--epochs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_SCORES = ("val_tau", "test_tau", "test_r2")

# Runs inside each subprocess; uses only API both revisions share (GMN, featurize, forward).
_MEASURE = r'''
import json, sys, time
import datasets, torch
from scipy.stats import kendalltau
from sklearn.metrics import r2_score
from torch_geometric.loader import DataLoader
from gmn_bench.metanets import GMN

zoo, n_graphs, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(1)
datasets.disable_progress_bars()
rows = {s: datasets.load_dataset(zoo, "id", split=s) for s in ("train", "validation", "test")}
train = rows["train"].select(range(min(n_graphs, len(rows["train"]))))

try:  # what every gmn-bench command does at start-up (the baseline has no such module)
    from gmn_bench.memory import keep_freed_memory
    keep_freed_memory()
except ImportError:
    pass

def rss_mb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field)) / 1024

def reset_peak():
    """Reset the peak resident set size to the current one (Linux: clear_refs 5); return the current."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return rss_mb("VmRSS:")

def peak_mb():
    return rss_mb("VmHWM:")

def graphs(ds, gmn):
    out = []
    for r in ds:
        g = gmn.featurize(r)
        g.y = torch.tensor([r["test_acc"]], dtype=torch.float32)
        out.append(g)
    return out

def epoch(gmn, optimizer, data, shuffle=True):
    gmn.train()
    for batch in DataLoader(data, batch_size=32, shuffle=shuffle, generator=torch.Generator().manual_seed(0)):
        optimizer.zero_grad()
        if hasattr(gmn, "accumulate_gradient"):  # as the protocol trains, in each revision
            gmn.accumulate_gradient(batch, loss)
        else:
            for part in getattr(gmn, "micro_batches", lambda b: [b])(batch):
                (loss(gmn(part), part.y) * (len(part.y) / len(batch.y))).backward()
        optimizer.step()

def loss(output, y):
    return torch.nn.functional.binary_cross_entropy_with_logits(output[:, 0], y)

def predict(gmn, data):
    gmn.eval()
    with torch.no_grad():
        return torch.cat([torch.sigmoid(gmn(b)[:, 0]) for b in DataLoader(data, batch_size=32)]).tolist()

torch.manual_seed(0)
gmn = GMN(out_dim=1)
start = time.perf_counter()
data = graphs(train, gmn)
featurize = (time.perf_counter() - start) / len(data)
mlps = sorted((r for r in rows["train"] if r["family"] == "mlp"), key=lambda r: -r["n_params"])[:32]
mlp_data = graphs(mlps, gmn)
sizes = [g.num_edges for g in data]
graph_bytes = sum(sum(v.numel() * v.element_size() for v in g.to_dict().values() if torch.is_tensor(v)) for g in data)
optimizer = torch.optim.Adam(gmn.parameters(), lr=1e-3)
before = reset_peak()  # the peak counts from here: freed warm-up buffers stay in the heap for the epoch
epoch(gmn, optimizer, data[:32])  # warm-up
start = time.perf_counter()
epoch(gmn, optimizer, data)
epoch_seconds = time.perf_counter() - start
epoch_peak = peak_mb() - before
before = reset_peak()
start = time.perf_counter()
epoch(gmn, optimizer, mlp_data, shuffle=False)
mlp_seconds = time.perf_counter() - start
mlp_peak = peak_mb() - before
result = dict(featurize_seconds=featurize, edges_mean=sum(sizes) / len(sizes), edges_max=max(sizes),
              bytes_per_graph=graph_bytes / len(data), epoch_seconds=epoch_seconds, epoch_peak_mb=epoch_peak,
              mlp_edges=sum(g.num_edges for g in mlp_data), mlp_step_seconds=mlp_seconds, mlp_step_peak_mb=mlp_peak,
              graphs=len(data))
if epochs:
    torch.manual_seed(0)
    gmn = GMN(out_dim=1)
    optimizer = torch.optim.Adam(gmn.parameters(), lr=1e-3)
    for _ in range(epochs):
        epoch(gmn, optimizer, data)
    validation, test = graphs(rows["validation"], gmn), graphs(rows["test"], gmn)
    val_pred, pred = predict(gmn, validation), predict(gmn, test)
    truth = [g.y.item() for g in test]
    result.update(val_tau=float(kendalltau([g.y.item() for g in validation], val_pred).statistic),
                  test_tau=float(kendalltau(truth, pred).statistic), test_r2=float(r2_score(truth, pred)),
                  val_networks=len(validation), test_networks=len(test))
print("RESULT " + json.dumps(result))
'''


def _export(revision: str, into: Path) -> Path:
    """The baseline revision's ``gmn_bench`` package, unpacked under ``into``."""
    archive = subprocess.run(["git", "archive", "--format=tar", revision, "gmn_bench"], cwd=_ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _measure(source: Path, zoo: str, graphs: int, epochs: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(source), OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", _MEASURE, zoo, str(graphs), str(epochs)], env=env, cwd=source,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[len("RESULT "):])


def main() -> None:
    from gmn_bench.zoo.default import DEFAULT_ZOO

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zoo", default=str(DEFAULT_ZOO))
    parser.add_argument("--baseline", default="fe5ce38", help="git revision of the baseline implementation")
    parser.add_argument("--graphs", type=int, default=256, help="training networks in the timed epoch")
    parser.add_argument("--epochs", type=int, default=3,
                        help="train a fresh GMN E epochs and score the id validation and test splits (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        baseline = _measure(_export(args.baseline, Path(tmp)), args.zoo, args.graphs, args.epochs)
    current = _measure(_ROOT, args.zoo, args.graphs, args.epochs)
    print(f"GMN training on {args.zoo}, {current['graphs']} training graphs, 1 thread; "
          f"baseline = {args.baseline}, current = this checkout")
    print(f"{'measure':<34}{'baseline':>12}{'current':>12}{'baseline/current':>30}")
    for key in ("featurize_seconds", "edges_mean", "edges_max", "bytes_per_graph", "epoch_seconds", "epoch_peak_mb",
                "mlp_edges", "mlp_step_seconds", "mlp_step_peak_mb", "val_tau", "test_tau", "test_r2"):
        if key in current:
            b, c = baseline[key], current[key]
            ratio = f"{c - b:+.4f} (current - baseline)" if key in _SCORES else f"{b / c:.2f}x" if c else ""
            print(f"{key:<34}{b:>12.4g}{c:>12.4g}{ratio:>30}")
    if "val_tau" in current:
        print(f"speed: current epoch {baseline['epoch_seconds'] / current['epoch_seconds']:.2f}x the baseline's; "
              f"score after {args.epochs} epochs: validation Kendall tau {current['val_tau']:.4f} (current) vs "
              f"{baseline['val_tau']:.4f} (baseline), n = {current['val_networks']} validation networks, one seed")


if __name__ == "__main__":
    main()
