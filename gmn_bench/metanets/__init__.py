"""Reference torch metanets: ``nn.Module``s with ``name``, ``featurize(row) -> Data``, ``forward(batch)`` and
``config()`` (see each class)."""
from .gmn import GMN

__all__ = ["GMN"]
