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


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "--zoo", "{missing}", "--task", "accuracy-prediction", "--metanet", "statnn", "--quiet"], "no such folder"),
    (["evaluate", "--zoo", "{empty}", "--task", "accuracy-prediction", "--metanet", "statnn", "--quiet"],
     "no README.md dataset card (the folder is empty)"),
    (["info", "{missing}"], "no such folder"),
    (["info", "{empty}"], "(the folder is empty)"),
    (["submit", "{missing}/results.json", "--author", "Ada", "--out", "{empty}/submissions"], "cannot read 'results.json'"),
    (["leaderboard", "--submissions", "{missing}", "--out", "{empty}/board"], "is not a folder of submissions"),
])
def test_bad_paths_are_clear_errors_not_tracebacks(tmp_path, capsys, argv, message):
    (tmp_path / "empty").mkdir()
    argv = [a.format(missing=tmp_path / "missing" / "zoo", empty=tmp_path / "empty") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["evaluate", "--epochs", "0"], ["evaluate", "--threads", "0"], ["evaluate", "--seeds", "0"],
                                  ["evaluate", "--epochs", "-3"], ["evaluate", "--threads", "two"],
                                  ["evaluate", "--epochs", "gmn=0"], ["evaluate", "--epochs", "gmn=x"],
                                  ["build", "recipe", "--out", "x", "--workers", "0"],
                                  ["parameter-prediction", "--train-steps", "0"],
                                  ["parameter-prediction", "--finetune-epochs", "-1"]])
def test_zero_or_negative_counts_are_refused_not_replaced_by_defaults(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and ("must be at least" in err or "is not an integer" in err)


@pytest.mark.parametrize("value", ["=3", "gmn=3,gmn=4", "gmn=3,,dmc=4"])
def test_malformed_per_metanet_epochs_are_refused(capsys, value):
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "--epochs", value])
    assert info.value.code == 2 and "expected N or NAME=N[,NAME=N...]" in capsys.readouterr().err


def test_the_allocator_keeps_freed_buffers_on_glibc():
    import platform

    from gmn_bench.memory import keep_freed_memory

    assert keep_freed_memory() is (platform.libc_ver()[0] == "glibc")
