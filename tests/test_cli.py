import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gmn_bench.evaluation as evaluation
from conftest import TEST_ZOO
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


@pytest.mark.parametrize("argv", [["evaluate", "--seeds", "1" + "0" * 400], ["evaluate", "--seeds", "9" * 5000],
                                  ["evaluate", "--seeds", "1e3"], ["evaluate", "--seeds", "３"],
                                  ["evaluate", "--seeds", "1_000"], ["evaluate", "--seeds", "3.0"],
                                  ["evaluate", "--seeds", "100000000000"], ["evaluate", "--workers", str(2**70)],
                                  ["demo", "--seed", "1" + "0" * 30], ["demo", "--seed", "-1"],
                                  ["parameter-prediction", "--seed", "nan"], ["evaluate", "--epochs", "gmn=" + "9" * 40]])
def test_numbers_beyond_what_a_count_or_seed_holds_are_argparse_errors(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Traceback" not in err and "error: argument" in err


def test_ctrl_c_during_evaluate_says_what_was_kept_and_how_to_resume(tmp_path, capsys, monkeypatch):
    real, calls = evaluation.evaluate_metanet, []

    def interrupted_on_the_second_job(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate_metanet", interrupted_on_the_second_job)
    out = tmp_path / "results"
    code = main(["evaluate", "--zoo", str(TEST_ZOO), "--task", "accuracy-prediction", "--metanet", "constant,arch-only",
                 "--seeds", "1", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 130 and "Traceback" not in err
    line = err.strip().splitlines()[-1]  # the one line evaluate ends with (datasets' own bars may come before)
    assert "interrupted" in line and "accuracy-prediction__constant.json" in line and "--resume" in line
    assert (out / "accuracy-prediction__constant.json").exists()
    assert not (out / "accuracy-prediction__arch-only.json").exists()


def test_ctrl_c_with_nothing_finished_says_nothing_was_kept(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(evaluation, "evaluate_metanet", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    code = main(["evaluate", "--zoo", str(TEST_ZOO), "--task", "accuracy-prediction", "--metanet", "constant",
                 "--seeds", "1", "--quiet", "--out", str(tmp_path / "results")])
    err = capsys.readouterr().err
    line = err.strip().splitlines()[-1]
    assert code == 130 and "Traceback" not in err and "no results file was written" in line and "--resume" in line


def test_ctrl_c_in_workers_mode_stops_the_workers_and_says_what_was_kept(tmp_path):
    """A real SIGINT to the whole process group (what Ctrl-C in a terminal sends), once one of two
    evaluations has written its results while the other is still training."""
    out = tmp_path / "results"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gmn_bench.cli", "evaluate", "--zoo", str(TEST_ZOO), "--task", "accuracy-prediction",
         "--metanet", "constant,deepsets", "--epochs", "100000", "--seeds", "1", "--workers", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        while not (out / "accuracy-prediction__constant.png").exists() and process.poll() is None:  # after the .json
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130 and "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert "interrupted" in line and "accuracy-prediction__constant.json" in line and "--resume" in line
    assert not (out / "accuracy-prediction__deepsets.json").exists()
