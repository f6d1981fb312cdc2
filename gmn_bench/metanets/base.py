"""The metanet contract, written once: what :func:`gmn_bench.evaluation.evaluate_metanet`, the CLI and
the registry rely on.

Every metanet is a :class:`Metanet`: a class attribute ``name`` (its registry and results name),
``default_epochs`` (training epochs when none are asked for), ``deterministic`` (True when a seed
changes nothing, so it is evaluated once rather than once per seed), ``track`` (which input view
its rows are, :mod:`gmn_bench.tasks.inputs`: ``"weights"``, the default, or ``"recipe"`` for
reference lines that also read the recorded training recipe), constructor keyword
arguments recorded by :meth:`~Metanet.hparams`, ``featurize(row)`` (a zoo row -> its input) and
:meth:`~Metanet.check_rows`, the zoo-compatibility check (raise :class:`MetanetNotApplicable`
for rows it cannot read; the default accepts every zoo). Two kinds:

* :class:`TorchMetanet` (an ``nn.Module``): ``__init__(out_dim, **hparams)``, ``featurize(row) ->
  torch_geometric.data.Data``, ``forward(batch) -> [num_graphs, out_dim]``; trained with the
  standard protocol, which takes one optimizer step per batch on the gradient
  :meth:`~TorchMetanet.accumulate_gradient` gives (run over :meth:`~TorchMetanet.micro_batches`: one part
  unless a subclass bounds the memory of a step); :meth:`~TorchMetanet.save` / :meth:`~TorchMetanet.load` store it as a
  safetensors weights file and a JSON file of its name and hyperparameters (as ppuda's ``GHN.load``);
* :class:`SklearnMetanet`: ``featurize(row) -> 1-D ndarray`` and ``estimator(task_type, seed)``, an
  unfitted scikit-learn estimator fitted once per seed.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Mapping

from safetensors.torch import load_file, save_model
from torch import nn

from ..tasks.inputs import WEIGHTS

DEFAULT_EPOCHS = 100
METANET_FORMAT = "gmn-bench/metanet/v1"
WEIGHTS_FILE, METANET_FILE = "weights.safetensors", "metanet.json"


class MetanetNotApplicable(ValueError):
    """A metanet cannot be used on these rows; the message says why."""


class Metanet(ABC):
    """A model that reads other networks' weights (see the module docstring)."""

    name: ClassVar[str]
    default_epochs: ClassVar[int] = DEFAULT_EPOCHS
    deterministic: ClassVar[bool] = False
    track: ClassVar[str] = WEIGHTS

    def __init__(self, **hparams: Any):
        self._hparams = dict(hparams)

    def hparams(self) -> dict[str, Any]:
        """The constructor keyword arguments (JSON-able): ``type(self)(**self.hparams())`` rebuilds it."""
        return dict(self._hparams)

    @abstractmethod
    def featurize(self, row: Mapping[str, Any]) -> Any:
        """The metanet's input for one row of its track's input view (:class:`gmn_bench.tasks.inputs.InputRow`)."""

    @classmethod
    def check_rows(cls, rows: Iterable[Mapping[str, Any]]) -> None:
        """Raise :class:`MetanetNotApplicable` if this metanet cannot read ``rows``; every zoo by default."""


class TorchMetanet(Metanet, nn.Module):
    """A torch metanet: ``featurize(row) -> Data`` and ``forward(batch) -> [num_graphs, out_dim]``.

    Subclasses pass every constructor argument up: ``super().__init__(out_dim=out_dim, hidden=hidden)``.
    """

    def __init__(self, out_dim: int, **hparams: Any):
        nn.Module.__init__(self)
        Metanet.__init__(self, out_dim=out_dim, **hparams)

    @abstractmethod
    def forward(self, batch) -> Any:
        """``[num_graphs, out_dim]`` raw outputs for a ``torch_geometric`` batch of featurized rows."""

    def micro_batches(self, batch) -> list:
        """The parts a training batch is run in by :meth:`accumulate_gradient`. Default: the batch itself."""
        return [batch]

    def accumulate_gradient(self, batch, loss: Callable[[Any, Any], Any], device: str = "cpu") -> None:
        """Add the gradient of ``loss(self(batch), batch.y)`` to every parameter's ``.grad`` (one training
        step of the protocol, before the optimizer step), and update any state the forward keeps (running
        statistics) as one forward of the whole batch would.

        Runs the parts :meth:`micro_batches` gives, each moved to ``device``, one backward pass each,
        weighted by its share of the batch. That is the whole batch's gradient only when the forward
        treats every example on its own; a subclass that splits batches and keeps per-batch state
        overrides this method so that the state, too, is the whole batch's (see :class:`~gmn_bench.metanets.GMN`)."""
        self._backward_parts(self.micro_batches(batch), len(batch.y), loss, device)

    def _backward_parts(self, parts: list, batch_size: int, loss: Callable[[Any, Any], Any], device: str) -> None:
        for part in parts:
            part = part.to(device)
            (loss(self(part), part.y) * (len(part.y) / batch_size)).backward()

    def save(self, folder: str | Path, **metadata: Any) -> Path:
        """Write ``<folder>/weights.safetensors`` and ``<folder>/metanet.json`` (format, ``name``,
        ``hparams`` and any JSON-able ``metadata``); returns ``folder``."""
        return save_metanet(self, folder, **metadata)

    @classmethod
    def load(cls, folder: str | Path) -> "TorchMetanet":
        """The metanet saved in ``folder`` by :meth:`save`, in eval mode. Called on
        ``TorchMetanet`` itself it finds the class by name in :data:`gmn_bench.metanets.METANETS`;
        called on a subclass it builds that class (whose ``name`` must match the file's)."""
        document = read_metanet_file(folder)
        if cls is TorchMetanet:
            from . import METANETS

            target = METANETS.get(document["name"])
            if not (isinstance(target, type) and issubclass(target, TorchMetanet)):
                raise ValueError(f"{folder}: {document['name']!r} is not a registered torch metanet; "
                                 f"load it with its own class, e.g. MyMetanet.load(folder)")
        else:
            target = cls
        if target.name != document["name"]:
            raise ValueError(f"{folder}: holds metanet {document['name']!r}, not {target.name!r}")
        model = target(**document["hparams"])
        model.load_state_dict(load_file(str(Path(folder) / WEIGHTS_FILE)))
        return model.eval()


def save_metanet(model: nn.Module, folder: str | Path, **metadata: Any) -> Path:
    """Write ``model`` (with ``name`` and ``hparams()``) as ``<folder>/weights.safetensors`` and
    ``<folder>/metanet.json`` (format, ``name``, ``hparams`` and any JSON-able ``metadata``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, str(folder / WEIGHTS_FILE))
    document = {"format": METANET_FORMAT, "name": model.name, "hparams": model.hparams(), **metadata}
    (folder / METANET_FILE).write_text(json.dumps(document, indent=2) + "\n")
    return folder


def read_metanet_file(folder: str | Path) -> dict[str, Any]:
    """The ``metanet.json`` of a saved metanet, checked for its format, ``name`` and ``hparams``."""
    path = Path(folder) / METANET_FILE
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a saved metanet ({e})") from e
    if not isinstance(document, dict) or document.get("format") != METANET_FORMAT or \
            not isinstance(document.get("name"), str) or not isinstance(document.get("hparams"), dict):
        raise ValueError(f"{path}: not a {METANET_FORMAT} file (needs format, name and hparams)")
    return document


class SklearnMetanet(Metanet):
    """A scikit-learn metanet: ``featurize(row) -> 1-D ndarray`` and an unfitted estimator per seed."""

    @abstractmethod
    def estimator(self, task_type: str, seed: int) -> Any:
        """An unfitted scikit-learn regressor (``"regression"``) or classifier (``"classification"``)."""
