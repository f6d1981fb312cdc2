"""Parameter-graph construction and size: this checkout's ``to_graph`` side by side with a baseline revision's.

The baseline's ``gmn_bench/graphs/parameter_graph.py`` is read with ``git show REV:...`` and loaded as a
module of this package (default REV: fe5ce38, the last hand-written per-family builder), so both run
in one process on the same rows. For the largest network of each family in a zoo (default: the
embedded cifar10-tiny zoo) it reports, for each implementation, graphs/second from a module and from
a stored zoo row (warm: the architecture seen before; this checkout's row path also cold, its first row
of a new architecture), the row/module time ratio, and bytes per graph (tensors, and the safetensors
file the graph cache stores); then this checkout's cold row path against its module path on the first
row of every distinct architecture; then the same totals over every row of the zoo.

    python benchmarks/graph_construction.py [--zoo PATH_OR_REPO_ID] [--baseline REV] [--seconds 1] [--threads 1]
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import save

from gmn_bench import load_zoo, to_module
from gmn_bench.graphs import clear_layout_cache, parameter_graph
from gmn_bench.zoo.default import DEFAULT_ZOO

_TENSORS = ("x", "edge_index", "edge_type", "edge_kernel", "weight_values")
_ROOT = Path(__file__).resolve().parents[1]


def _baseline(revision: str):
    """The baseline revision's parameter_graph module, importable next to this checkout's."""
    source = subprocess.run(["git", "show", f"{revision}:gmn_bench/graphs/parameter_graph.py"], cwd=_ROOT,
                            check=True, capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("gmn_bench.graphs._baseline_parameter_graph", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "gmn_bench.graphs"
    sys.modules[spec.name] = module
    exec(compile(source, f"{revision}:parameter_graph.py", "exec"), module.__dict__)
    return module


def _seconds(fn, seconds: float) -> float:
    """Mean seconds per call of ``fn`` (called for at least ``seconds``, after one warm-up call)."""
    fn()
    count, start = 0, time.perf_counter()
    while count == 0 or time.perf_counter() - start < seconds:
        fn()
        count += 1
    return (time.perf_counter() - start) / count


def _cold_row_seconds(row, repeats: int = 3) -> float:
    """This checkout's row path on an architecture it has not seen (its layout cache cleared)."""
    total = 0.0
    for _ in range(repeats):
        clear_layout_cache()
        start = time.perf_counter()
        parameter_graph.to_graph(row)
        total += time.perf_counter() - start
    return total / repeats


def _nbytes(g) -> tuple[int, int]:
    """(bytes of the graph's tensors, bytes of its safetensors cache file)."""
    tensors = {k: g[k].contiguous() for k in _TENSORS}
    return sum(t.numel() * t.element_size() for t in tensors.values()), len(save(tensors))


def _distinct_architectures(rows) -> None:
    """This checkout's row path on the first row of every architecture (each one cold) against
    ``to_graph`` of the same rows as modules."""
    firsts: dict[str, int] = {}
    for i, arch in enumerate(rows["arch"]):
        firsts.setdefault(arch, i)
    sample = [rows[i] for i in firsts.values()]
    modules = [to_module(row) for row in sample]
    clear_layout_cache()
    start = time.perf_counter()
    for row in sample:
        parameter_graph.to_graph(row)
    cold = (time.perf_counter() - start) / len(sample)
    start = time.perf_counter()
    for module in modules:
        parameter_graph.to_graph(module)
    module_time = (time.perf_counter() - start) / len(sample)
    print(f"every distinct architecture ({len(sample)}), this checkout: {cold * 1e3:.2f} ms per cold row, "
          f"{module_time * 1e3:.2f} ms per module; row/module {cold / module_time:.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zoo", default=str(DEFAULT_ZOO))
    parser.add_argument("--config", default="default")
    parser.add_argument("--baseline", default="fe5ce38", help="git revision of the baseline implementation")
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum timing per measurement")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1: as in a loader worker)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    old = _baseline(args.baseline)
    rows = load_zoo(args.zoo, config=args.config, split="train")
    largest = {}
    for i, (family, n) in enumerate(zip(rows["family"], rows["n_params"])):
        if family not in largest or n > largest[family][1]:
            largest[family] = (i, n)
    print(f"zoo {args.zoo}; baseline {args.baseline} vs this checkout; torch threads {torch.get_num_threads()}; "
          f"ms per graph (mean over >= {args.seconds} s)")
    print(f"{'family':<7} {'params':>7} | {'edges':>6} {'module':>7} {'row':>7} {'row/mod':>7} {'bytes':>9} | "
          f"{'edges':>5} {'module':>7} {'row':>6} {'cold row':>8} {'row/mod':>7} {'bytes':>8} | "
          f"{'row speed-up':>12} {'bytes old/new':>13} {'file old/new':>12}")
    for family in sorted(largest):
        i, n_params = largest[family]
        row = rows[i]
        module = to_module(row)
        a, b = old.to_graph(row), parameter_graph.to_graph(row)
        old_module, old_row, new_module, new_row = (
            _seconds(lambda build=build, item=item: build(item), args.seconds)
            for build in (old.to_graph, parameter_graph.to_graph) for item in (module, row))
        cold = _cold_row_seconds(row)
        (old_bytes, old_file), (new_bytes, new_file) = _nbytes(a), _nbytes(b)
        print(f"{family:<7} {n_params:>7} | {a.num_edges:>6} {old_module * 1e3:>7.2f} {old_row * 1e3:>7.2f} "
              f"{old_row / old_module:>6.2f}x {old_bytes:>9,} | {b.num_edges:>5} {new_module * 1e3:>7.2f} "
              f"{new_row * 1e3:>6.2f} {cold * 1e3:>8.2f} {new_row / new_module:>6.2f}x {new_bytes:>8,} | "
              f"{old_row / new_row:>11.1f}x {old_bytes / new_bytes:>12.1f}x {old_file / new_file:>11.1f}x", flush=True)
    _distinct_architectures(rows)
    totals = {}
    for name, build in (("baseline", old.to_graph), ("this checkout", parameter_graph.to_graph)):
        clear_layout_cache()
        start, size, files, edges = time.perf_counter(), 0, 0, 0
        for row in rows:
            g = build(row)
            tensor_bytes, file_bytes = _nbytes(g)
            size, files, edges = size + tensor_bytes, files + file_bytes, edges + g.num_edges
        totals[name] = (time.perf_counter() - start, size, files, edges)
        print(f"all {len(rows)} rows, {name:<13}: {totals[name][0]:6.2f} s to build from rows (cold caches), "
              f"{size / len(rows):>10,.0f} bytes/graph, {files / len(rows):>10,.0f} bytes/cache file, "
              f"{edges / len(rows):>9,.0f} edges/graph")
    (t0, s0, f0, e0), (t1, s1, f1, e1) = totals["baseline"], totals["this checkout"]
    print(f"ratios baseline/this checkout: time {t0 / t1:.1f}x, bytes/graph {s0 / s1:.1f}x, "
          f"bytes/cache file {f0 / f1:.1f}x, edges {e0 / e1:.1f}x")


if __name__ == "__main__":
    main()
