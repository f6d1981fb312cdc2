"""Architectures none of gmn-bench's builders produce, with their function-preserving permutations.

``build`` is a model factory for custom specs (``{"family": NAME, "factory": "foreign_architectures:build",
"width": W}``); ``unit_groups(module)`` lists, per permutable group of hidden units, how to permute it:
``(size, apply)`` where ``apply(perm, fix_consumers)`` permutes the units in place and, with
``fix_consumers``, the weights that read them (so the function is unchanged).
"""
import torch
import torch.nn.functional as F
from torch import nn

from gmn_bench.nets import model_factory


def _conv_bn(c_in, c_out, k=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out))


class VGG(nn.Module):
    """conv-BN-ReLU stages with max pooling; a classifier on the flattened 2x2 map."""

    def __init__(self, width):
        super().__init__()
        self.features = nn.Sequential(_conv_bn(3, width), nn.ReLU(), nn.MaxPool2d(2),
                                      _conv_bn(width, 2 * width), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.AdaptiveAvgPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(8 * width, 16), nn.ReLU(), nn.Dropout(0.1),
                                        nn.Linear(16, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class MobileNet(nn.Module):
    """A strided stem, then depthwise-separable blocks (depthwise 3x3 + pointwise 1x1, BN, ReLU6)."""

    def __init__(self, width):
        super().__init__()
        self.stem = _conv_bn(3, width, stride=2)
        self.blocks = nn.ModuleList(
            nn.ModuleDict({"dw": _conv_bn(c, c, groups=c), "pw": _conv_bn(c, 2 * c, k=1)})
            for c in (width, 2 * width))
        self.head = nn.Linear(4 * width, 10)

    def forward(self, x):
        x = F.relu6(self.stem(x))
        for block in self.blocks:
            x = F.relu6(block["pw"](F.relu6(block["dw"](x))))
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))


class Transformer(nn.Module):
    """Patch embedding, a learned positional embedding, pre-norm nn.MultiheadAttention blocks."""

    def __init__(self, width, heads=2, depth=2):
        super().__init__()
        self.embed = nn.Conv2d(3, width, 8, stride=8)
        self.pos = nn.Parameter(torch.randn(1, 16, width) * 0.02)
        self.norms1 = nn.ModuleList(nn.LayerNorm(width) for _ in range(depth))
        self.attns = nn.ModuleList(nn.MultiheadAttention(width, heads, batch_first=True) for _ in range(depth))
        self.norms2 = nn.ModuleList(nn.LayerNorm(width) for _ in range(depth))
        self.mlps = nn.ModuleList(nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))
                                  for _ in range(depth))
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2) + self.pos
        for norm1, attn, norm2, mlp in zip(self.norms1, self.attns, self.norms2, self.mlps):
            h = norm1(x)
            x = x + attn(h, h, h, need_weights=False)[0]
            x = x + mlp(norm2(x))
        return self.head(x.mean(dim=1))


class ConcatCNN(nn.Module):
    """Two branches (3x3 and 1x1 convs) concatenated along channels with the stem's output (a dense skip),
    merged by a strided conv with GroupNorm."""

    def __init__(self, width):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.branch3 = nn.Conv2d(width, width, 3, padding=1)
        self.branch1 = nn.Conv2d(width, width, 1)
        self.merge = nn.Conv2d(3 * width, 2 * width, 3, stride=2, padding=1)
        self.norm = nn.GroupNorm(2, 2 * width)
        self.head = nn.Linear(2 * width, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.stem(x)), 2)
        x = torch.cat([x, torch.relu(self.branch3(x)), torch.relu(self.branch1(x))], dim=1)
        return self.head(torch.relu(self.norm(self.merge(x))).mean(dim=(2, 3)))


class ResidualMLP(nn.Module):
    """An MLP on the 8x8-pooled image with residual blocks ``h + fc2(relu(fc1(h)))`` and a final LayerNorm."""

    def __init__(self, width, blocks=2):
        super().__init__()
        self.inp = nn.Linear(3 * 8 * 8, width)
        self.fc1 = nn.ModuleList(nn.Linear(width, 2 * width) for _ in range(blocks))
        self.fc2 = nn.ModuleList(nn.Linear(2 * width, width) for _ in range(blocks))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        h = torch.tanh(self.inp(F.avg_pool2d(x, 4).flatten(1)))
        for fc1, fc2 in zip(self.fc1, self.fc2):
            h = h + fc2(torch.relu(fc1(h)))
        return self.head(self.norm(h))


ARCHITECTURES = {"vgg": VGG, "mobilenet": MobileNet, "transformer": Transformer, "concat-cnn": ConcatCNN,
                 "residual-mlp": ResidualMLP}


@model_factory
def build(spec):
    return ARCHITECTURES[spec["family"]](spec["width"])


def spec(family, width=4):
    return {"family": family, "factory": "foreign_architectures:build", "width": width}


# ------------------------------------------------------------------ function-preserving permutations

def _group(units, readers):
    """Permute dim 0 of ``units``; with ``fix_consumers`` also ``readers`` (tensor, dim, block) along
    ``dim``, where each unit owns ``block`` consecutive entries (a flattened map)."""
    def apply(perm, fix_consumers):
        with torch.no_grad():
            for t in units:
                t.copy_(t[perm])
            for t, dim, block in readers if fix_consumers else ():
                index = (perm[:, None] * block + torch.arange(block)).reshape(-1)
                t.copy_(t.index_select(dim, index))
    return units[0].shape[0], apply


def _bn(bn):
    return [bn.weight, bn.bias, bn.running_mean, bn.running_var]


def _heads(attn):
    """Permute heads, and the dimensions inside every head (queries with keys, values alone)."""
    d, h = attn.embed_dim, attn.num_heads
    e = d // h

    def apply(perm, fix_consumers):
        generator = torch.Generator().manual_seed(int(perm.sum() * 7 + perm[0]))
        inner_qk, inner_v = torch.randperm(e, generator=generator), torch.randperm(e, generator=generator)
        qk = (perm[:, None] * e + inner_qk).reshape(-1)
        v = (perm[:, None] * e + inner_v).reshape(-1)
        with torch.no_grad():
            rows = torch.cat([qk, d + qk, 2 * d + v])
            attn.in_proj_weight.copy_(attn.in_proj_weight[rows])
            attn.in_proj_bias.copy_(attn.in_proj_bias[rows])
            if fix_consumers:
                attn.out_proj.weight.copy_(attn.out_proj.weight[:, v])
    return h, apply


def unit_groups(module):
    if isinstance(module, VGG):
        (c1, b1), (c2, b2) = module.features[0], module.features[3]
        fc1, fc2 = module.classifier[1], module.classifier[4]
        return [_group([c1.weight, *_bn(b1)], [(c2.weight, 1, 1)]),
                _group([c2.weight, *_bn(b2)], [(fc1.weight, 1, 4)]),
                _group([fc1.weight, fc1.bias], [(fc2.weight, 1, 1)])]
    if isinstance(module, MobileNet):
        (stem, sbn), blocks = module.stem, module.blocks
        groups = []
        owners = [[stem.weight, *_bn(sbn)]] + [[b["pw"][0].weight, *_bn(b["pw"][1])] for b in blocks]
        for i, units in enumerate(owners):
            if i < len(blocks):
                dw, dbn = blocks[i]["dw"]
                groups.append(_group(units + [dw.weight, *_bn(dbn)], [(blocks[i]["pw"][0].weight, 1, 1)]))
            else:
                groups.append(_group(units, [(module.head.weight, 1, 1)]))
        return groups
    if isinstance(module, Transformer):
        return [_heads(a) for a in module.attns] + \
            [_group([m[0].weight, m[0].bias], [(m[2].weight, 1, 1)]) for m in module.mlps]
    if isinstance(module, ConcatCNN):
        w = module.stem.out_channels
        return [_branch(module, b, (i + 1) * w) for i, b in enumerate((module.branch3, module.branch1))]
    if isinstance(module, ResidualMLP):
        return [_group([a.weight, a.bias], [(b.weight, 1, 1)]) for a, b in zip(module.fc1, module.fc2)]
    raise AssertionError(type(module))


def _branch(module, conv, offset):
    """A ConcatCNN branch: its channels land at ``offset`` of the merge conv's input."""
    size = conv.out_channels

    def apply(perm, fix_consumers):
        with torch.no_grad():
            conv.weight.copy_(conv.weight[perm])
            conv.bias.copy_(conv.bias[perm])
            if fix_consumers:
                full = torch.arange(module.merge.in_channels)
                full[offset:offset + size] = offset + perm
                module.merge.weight.copy_(module.merge.weight[:, full])
    return size, apply
