import pytest

from gmn_bench import ZooUnavailableError, load_zoo
from gmn_bench.cli import main


def test_demo_writes_a_loadable_zoo(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "zoo")]) == 0
    out = capsys.readouterr().out
    assert "datasets.load_dataset reads it as {'test': 2, 'train': 2}" in out
    assert all(f" {family} " in out for family in ("mlp", "cnn", "resnet", "vit"))
    assert sorted(load_zoo(tmp_path / "zoo", split="train")["family"]) == ["cnn", "mlp", "resnet", "vit"]
    assert main(["info", str(tmp_path / "zoo"), "--config", "id"]) == 0
    assert "id/train: 2 rows, 2 networks" in capsys.readouterr().out


def test_an_unreachable_hub_zoo_is_a_clear_error_not_a_traceback(capsys):
    with pytest.raises(ZooUnavailableError, match="someorg/no-such-zoo is not a local folder"):
        load_zoo("someorg/no-such-zoo")  # the tests run with HF_HUB_OFFLINE=1
    for argv in (["evaluate", "--zoo", "someorg/no-such-zoo", "--task", "accuracy-prediction", "--metanet", "statnn",
                  "--quiet"], ["info", "someorg/no-such-zoo"]):
        assert main(argv) == 2
        assert "someorg/no-such-zoo" in capsys.readouterr().err


def test_the_allocator_keeps_freed_buffers_on_glibc():
    import platform

    from gmn_bench.memory import keep_freed_memory

    assert keep_freed_memory() is (platform.libc_ver()[0] == "glibc")
