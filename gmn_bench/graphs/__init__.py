"""Parameter graphs: networks as graphs whose nodes are neurons and whose edges are parameters.

:mod:`.format` defines the graph (feature columns, codes, :func:`edge_kernel_grid`), :mod:`.tracing`
builds it from a ``torch.fx`` trace of any supported module, :mod:`.parameter_graph` holds
``to_graph`` / ``from_graph``, and :mod:`.dataset` serves zoo splits as ``torch_geometric`` datasets
with an on-disk cache."""
from .dataset import GRAPH_FORMAT, GraphDataset, graph_loader
from .format import (
                     ACTIVATION_CODES,
                     EDGE_TYPES,
                     NODE_FEATURES,
                     NODE_TYPES,
                     NORM_CODES,
                     PARAMETER_FEATURES,
                     POOLING_CODES,
                     edge_kernel_grid,
)
from .parameter_graph import clear_layout_cache, from_graph, graph_to_state_dict, to_graph

__all__ = ["ACTIVATION_CODES", "EDGE_TYPES", "GRAPH_FORMAT", "GraphDataset", "NODE_FEATURES", "NODE_TYPES",
           "NORM_CODES", "PARAMETER_FEATURES", "POOLING_CODES", "clear_layout_cache", "edge_kernel_grid", "from_graph",
           "graph_loader", "graph_to_state_dict", "to_graph"]
