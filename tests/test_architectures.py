import json

import pytest
import torch

from gmn_bench import FAMILIES, SpecError, build_model, count_parameters, validate_spec
from conftest import SPECS


def _conv(ci, co, k, bias=True):
    return ci * co * k * k + (co if bias else 0)


def _linear(i, o):
    return i * o + o


@pytest.mark.parametrize("family", FAMILIES)
def test_forward_shape(family):
    assert build_model(SPECS[family])(torch.randn(3, 3, 32, 32)).shape == (3, 10)


def test_mlp_parameter_count():
    expected = _linear(3072, 16) + _linear(16, 16) + _linear(16, 10)
    assert count_parameters(build_model(SPECS["mlp"])) == expected


def test_cnn_parameter_count():
    # BatchNorm: conv has no bias, 2 affine params per channel
    expected = _conv(3, 4, 3, False) + 8 + _conv(4, 8, 3, False) + 16 + _linear(8, 10)
    assert count_parameters(build_model(SPECS["cnn"])) == expected
    no_bn = {**SPECS["cnn"], "batchnorm": False}
    assert count_parameters(build_model(no_bn)) == _conv(3, 4, 3) + _conv(4, 8, 3) + _linear(8, 10)


def test_resnet_parameter_count():
    stem = _conv(3, 4, 3, False) + 8
    block1 = 2 * (_conv(4, 4, 3, False) + 8)
    block2 = _conv(4, 8, 3, False) + 16 + _conv(8, 8, 3, False) + 16 + _conv(4, 8, 1, False) + 16
    assert count_parameters(build_model(SPECS["resnet"])) == stem + block1 + block2 + _linear(8, 10)


def test_vit_parameter_count():
    d, n_tokens, hidden = 16, 16 + 1, 32
    block = 2 * 2 * d + 4 * _linear(d, d) + _linear(d, hidden) + _linear(hidden, d)
    expected = _conv(3, d, 8) + d + n_tokens * d + 2 * block + 2 * d + _linear(d, 10)
    assert count_parameters(build_model(SPECS["vit"])) == expected
    mean_pool = {**SPECS["vit"], "pool": "mean"}
    assert count_parameters(build_model(mean_pool)) == expected - d - d


def test_parameter_names_are_stable():
    names = list(build_model(SPECS["vit"]).state_dict())
    assert names[:3] == ["cls_token", "pos_embed", "patch_embed.weight"]
    assert "blocks.1.attn.q.weight" in names and names[-1] == "head.bias"
    assert list(build_model(SPECS["mlp"]).state_dict()) == [
        "fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias", "head.weight", "head.bias"]


def test_spec_round_trips_through_json():
    for spec in SPECS.values():
        assert validate_spec(json.dumps(spec)) == validate_spec(spec)


@pytest.mark.parametrize("spec, message", [
    ({"family": "transformer"}, "unknown family"),
    ({"family": "mlp", "depth": 2, "width": 0}, "'width' must be a positive integer"),
    ({"family": "mlp", "depth": True, "width": 3}, "'depth' must be a positive integer"),
    ({"family": "mlp", "depth": 2, "width": 3, "activation": "swish"}, "'activation' must be one of"),
    ({"family": "mlp", "depth": 2, "width": 3, "dropout": 0.1}, "unknown keys ['dropout']"),
    ({"family": "cnn", "channels": []}, "'channels' must be a non-empty list"),
    ({"family": "cnn", "channels": [4, -1]}, "channels[1] must be a positive integer"),
    ({"family": "cnn", "channels": [4], "kernel_size": 4}, "must be odd"),
    ({"family": "cnn", "channels": [4] * 6}, "at most 5 pooled conv layers"),
    ({"family": "resnet", "widths": [4], "blocks_per_stage": 0}, "'blocks_per_stage' must be a positive integer"),
    ({"family": "vit", "patch_size": 5, "dim": 16, "depth": 1, "heads": 2}, "'patch_size' must divide 32"),
    ({"family": "vit", "patch_size": 8, "dim": 10, "depth": 1, "heads": 4}, "'heads' (4) must divide 'dim' (10)"),
    ({"family": "vit", "patch_size": 8, "dim": 16, "depth": 1, "heads": 2, "pool": "max"}, "'pool' must be one of"),
    ("{not json", "not valid JSON"),
    ([1, 2], "must be a mapping"),
])
def test_bad_specs_fail_clearly(spec, message):
    with pytest.raises(SpecError) as info:
        build_model(spec)
    assert message in str(info.value)
