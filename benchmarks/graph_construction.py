"""Parameter-graph construction per family: vectorised ``to_graph`` vs a naive per-edge Python loop.

Both build the same graphs (asserted) from the largest network of each family in a zoo (default: the
embedded cifar10-tiny zoo), side by side in one run. Reports graphs/second of each, the speed-up, and
bytes per graph of the compact storage next to what the same graph would take with every edge's
weights zero-padded to the zoo's largest kernel (the layout a fixed-width edge feature needs).

    python benchmarks/graph_construction.py [--zoo PATH_OR_REPO_ID] [--seconds 2] [--threads 1]
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from gmn_bench import load_zoo, to_module
from gmn_bench.zoo.default import DEFAULT_ZOO
from gmn_bench.graphs.parameter_graph import EDGE_TYPES, _Builder, _build, _family, to_graph


class _LoopBuilder(_Builder):
    """The same construction, one Python iteration per edge."""

    def dense(self, weight, src_off, dst_off, edge_type="weight"):
        n_out, n_in = weight.shape[:2]
        side = weight.shape[2] if weight.dim() == 4 else 1
        w = weight.reshape(n_out, n_in, -1).tolist()
        src, dst, values = [], [], []
        for o in range(n_out):
            for i in range(n_in):
                src.append(src_off + i)
                dst.append(dst_off + o)
                values.extend(w[o][i])
        self._append(src, dst, values, side, edge_type)

    def diagonal(self, count, src_off, dst_off, edge_type):
        src, dst = [], []
        for i in range(count):
            src.append(src_off + i)
            dst.append(dst_off + i)
        self._append(src, dst, [], 0, edge_type)

    def _append(self, src, dst, values, side, edge_type):
        n = len(src)
        self.src.append(torch.tensor(src, dtype=torch.long))
        self.dst.append(torch.tensor(dst, dtype=torch.long))
        self.types.append(torch.tensor([EDGE_TYPES[edge_type]] * n, dtype=torch.uint8))
        self.kernels.append(torch.tensor([side] * n, dtype=torch.uint8))
        self.values.append(torch.tensor(values, dtype=self.dtype))


def _rate(fn, seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while count == 0 or time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def _nbytes(g) -> int:
    return sum(g[k].numel() * g[k].element_size() for k in ("x", "edge_index", "edge_type", "edge_kernel",
                                                             "weight_values"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zoo", default=str(DEFAULT_ZOO))
    parser.add_argument("--config", default="default")
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum timing per measurement")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (1: as in a loader worker; on a loaded CPU more threads contend)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = load_zoo(args.zoo, config=args.config, split="train")
    largest = {}
    for i, (family, n) in enumerate(zip(rows["family"], rows["n_params"])):
        if family not in largest or n > largest[family][1]:
            largest[family] = (i, n)
    side = max([json.loads(a).get("kernel_size", 3 if f == "resnet" else 1)
                for a, f in zip(rows["arch"], rows["family"])])
    print(f"zoo {args.zoo}: largest network per family; padded layout = {side}x{side} slots + type per edge; "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'family':<7} {'params':>8} {'edges':>7} {'loop g/s':>9} {'to_graph g/s':>13} {'speed-up':>9} "
          f"{'bytes/graph':>12} {'padded bytes':>13} {'padded/compact':>15}")
    for family in sorted(largest):
        i, n_params = largest[family]
        module = to_module(rows[i])
        fast, slow = to_graph(module), _build(module, _family(module), _LoopBuilder())
        for key in ("x", "edge_index", "edge_type", "edge_kernel", "weight_values"):
            assert fast[key].dtype == slow[key].dtype and torch.equal(fast[key], slow[key]), (family, key)
        loop = _rate(lambda: _build(module, _family(module), _LoopBuilder()), args.seconds)
        vec = _rate(lambda: to_graph(module), args.seconds)
        compact = _nbytes(fast)
        padded = compact - fast.weight_values.numel() * 4 - 2 * fast.num_edges + fast.num_edges * (side * side + 1) * 4
        print(f"{family:<7} {n_params:>8} {fast.num_edges:>7} {loop:>9.1f} {vec:>13.1f} {vec / loop:>8.1f}x "
              f"{compact:>12,} {padded:>13,} {padded / compact:>14.2f}x", flush=True)


if __name__ == "__main__":
    main()
