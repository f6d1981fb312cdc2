"""Reference transcriptions of the GMN authors' DMC and DeepSets modules, the yardsticks of
``tests/test_faithful_baselines.py``.

Transcribed from ``cptq/asymmetric-networks``, file ``metanet/models.py``, commit
``7895e5c6ce6691d4b5a090d1527207d789dad93f`` (classes ``DSSeqReadout`` and ``DMCCNN``): the same
layers, in the same order, under the same attribute names (so state dicts move across unchanged),
computing on a dense ``[B, D, N]`` batch of equal-length networks exactly as theirs does. Their
``metanet/train.py`` builds ``DMCCNN(1, 64, 1, conv_num_layers=10)`` (``--model dmc``) and
``DSSeqReadout(1, 64, 1, num_layers=3)`` (``--model deepsets``), fed ``sd_to_input``: the state dict's
values reshaped to ``[B, -1]`` and concatenated.
"""
from torch import nn


class DSSeqReadout(nn.Module):
    """``pre_pool`` at every position of ``x`` ``[B, D, N]``, mean over the ``N`` positions, ``post_pool``."""

    def __init__(self, in_dim, hidden_dim, out_dim, num_layers=2):
        super().__init__()
        self.pre_pool = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.LayerNorm(hidden_dim), nn.ReLU())
        layers = []
        for _ in range(num_layers - 1):
            layers.extend([nn.Linear(hidden_dim, hidden_dim), nn.LayerNorm(hidden_dim), nn.ReLU()])
        layers.append(nn.Linear(hidden_dim, out_dim))
        self.post_pool = nn.Sequential(*layers)

    def forward(self, x):
        if x.ndim == 2:
            x = x.unsqueeze(1)
        x = x.transpose(2, 1)
        x = self.pre_pool(x)
        pooled = x.mean(1)
        return self.post_pool(pooled)


class DMCCNN(nn.Module):
    """Ten (``conv_num_layers``) unpadded k=5 Conv1d -> ReLU -> BatchNorm1d (-> MaxPool1d(2)) blocks,
    channels ``in_dim -> hidden/32 -> ... -> hidden``, then a two-layer ``DSSeqReadout``."""

    def __init__(self, in_dim, hidden_dim, out_dim, conv_num_layers):
        super().__init__()
        assert conv_num_layers >= 6
        self.convs = nn.ModuleList()
        conv = nn.Sequential(nn.Conv1d(in_dim, hidden_dim // (2 ** 5), 5), nn.ReLU(),
                             nn.BatchNorm1d(hidden_dim // (2 ** 5)), nn.MaxPool1d(2))
        self.convs.append(conv)
        for k in (5, 4, 3, 2, 1):
            conv = nn.Sequential(nn.Conv1d(hidden_dim // (2 ** k), hidden_dim // (2 ** (k - 1)), 5), nn.ReLU(),
                                 nn.BatchNorm1d(hidden_dim // 2 ** (k - 1)), nn.MaxPool1d(2))
            self.convs.append(conv)
        for i in range(conv_num_layers - 6):
            if i % 2 == 1:
                conv = nn.Sequential(nn.Conv1d(hidden_dim, hidden_dim, 5), nn.ReLU(), nn.BatchNorm1d(hidden_dim),
                                     nn.MaxPool1d(2))
            else:
                conv = nn.Sequential(nn.Conv1d(hidden_dim, hidden_dim, 5), nn.ReLU(), nn.BatchNorm1d(hidden_dim))
            self.convs.append(conv)
        self.readout = DSSeqReadout(hidden_dim, hidden_dim, out_dim, num_layers=2)

    def forward(self, x, *args):
        if x.ndim == 2:
            x = x.unsqueeze(1)
        for conv in self.convs:
            x = conv(x)
        return self.readout(x)
