"""Graph isomorphism of parameter graphs (networkx VF2 on node features and edge type/kernel/values)."""
from collections import Counter

import networkx as nx
import torch


def to_networkx(g) -> nx.MultiDiGraph:
    """A networkx multigraph whose node and edge attributes are everything the parameter graph holds."""
    out = nx.MultiDiGraph()
    for i, row in enumerate(g.x.tolist()):
        out.add_node(i, f=tuple(row))
    counts = g.edge_kernel.long().prod(dim=1).tolist()
    values = g.weight_values.split(counts)
    for (s, t), kind, kernel, v in zip(g.edge_index.t().tolist(), g.edge_type.tolist(), g.edge_kernel.tolist(),
                                       values):
        out.add_edge(s, t, f=(kind, *kernel, *v.tolist()))
    return out


def _same_edges(a, b):
    return Counter(e["f"] for e in a.values()) == Counter(e["f"] for e in b.values())


def isomorphic(g1, g2) -> bool:
    """Whether two parameter graphs are the same graph up to a relabelling of their nodes."""
    if g1.num_nodes != g2.num_nodes or g1.num_edges != g2.num_edges:
        return False
    return nx.is_isomorphic(to_networkx(g1), to_networkx(g2), node_match=lambda a, b: a["f"] == b["f"],
                            edge_match=_same_edges)


def perturbed(module, seed: int = 0):
    """``module`` with every parameter moved by noise and BatchNorm statistics drawn, so no two neurons tie."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=generator))
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=generator))
            elif b.is_floating_point():
                b.copy_(0.5 + torch.rand(b.shape, generator=generator))
    return module.eval()

