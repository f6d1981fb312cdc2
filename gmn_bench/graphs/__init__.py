"""Parameter graphs: networks as graphs whose nodes are neurons and whose edges are parameters
(:mod:`.parameter_graph`: ``to_graph``, ``from_graph``), and zoo splits as ``torch_geometric``
datasets with an on-disk cache (:mod:`.dataset`)."""
from .dataset import GraphDataset, graph_loader
from .parameter_graph import (
                              ACTIVATION_CODES,
                              EDGE_TYPES,
                              NODE_FEATURES,
                              NODE_TYPES,
                              PARAMETER_FEATURES,
                              POOLING_CODES,
                              from_graph,
                              graph_to_state_dict,
                              padded_edge_weights,
                              to_graph,
)

__all__ = ["ACTIVATION_CODES", "EDGE_TYPES", "GraphDataset", "NODE_FEATURES", "NODE_TYPES", "PARAMETER_FEATURES",
           "POOLING_CODES", "from_graph", "graph_loader", "graph_to_state_dict", "padded_edge_weights", "to_graph"]
