"""Provenance of results: the code fingerprint, stale reference entries on the board, and reproducing a seed."""
import importlib
import json

import pytest

from conftest import TEST_ZOO
from gmn_bench.cli import main
from gmn_bench.evaluation import Results, evaluate_metanet, save_results
from gmn_bench.evaluation.provenance import PROTOCOL_FILES, code_fingerprint
from gmn_bench.metanets import GMN, METANETS
from gmn_bench.tasks import get_task

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_code_fingerprint_covers_the_metanet_what_it_imports_and_the_protocol():
    files = code_fingerprint(GMN)["files"]
    assert {"gmn_bench/metanets/gmn.py", "gmn_bench/metanets/layers.py", "gmn_bench/metanets/base.py",
            "gmn_bench/graphs/parameter_graph.py", *PROTOCOL_FILES} <= set(files)
    assert "gmn_bench/metanets/__init__.py" not in files and "gmn_bench/metanets/dmc.py" not in files
    assert code_fingerprint(GMN) == code_fingerprint(GMN)
    assert code_fingerprint(GMN)["fingerprint"] != code_fingerprint(METANETS["dmc"])["fingerprint"]


def test_a_reference_entry_goes_stale_when_its_metanet_code_changes(tmp_path, monkeypatch, capsys):
    """A metanet defined in its own file is evaluated and added as a reference entry: current. Its file
    then changes: the board marks the entry stale (with the commit it was made at), ranks it no more,
    and --strict fails."""
    source = tmp_path / "echo_metanet.py"
    source.write_text("from gmn_bench.metanets.baselines import Constant\n\n\n"
                      "class Echo(Constant):\n    name = 'echo'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    echo = importlib.import_module("echo_metanet").Echo
    monkeypatch.setitem(METANETS, "echo", echo)
    assert {"echo_metanet.py", "gmn_bench/metanets/baselines.py"} <= set(code_fingerprint(echo)["files"])
    task = get_task("accuracy-prediction", zoo=TEST_ZOO)
    results = save_results(evaluate_metanet(task, echo, seeds=[0], progress=False), task, tmp_path / "reference")
    assert Results.load(results).metanet.code == code_fingerprint(echo)
    commit = json.loads(results.read_text())["environment"]["git_commit"]  # None in a copy without .git (CI)
    submissions, out = tmp_path / "submissions", tmp_path / "board"
    submissions.mkdir()
    board = ["leaderboard", "--submissions", str(submissions), "--out", str(out), "--strict"]
    assert main([*board, "--register-zoo", str(TEST_ZOO), "--add-reference", str(tmp_path / "reference")]) == 0
    markdown = (out / "README.md").read_text()
    assert "stale" not in markdown.split("## ")[-1] and f"| {(commit or '')[:12]} |" in markdown
    assert "| 1 | echo |" in markdown

    source.write_text(source.read_text() + "    # any edit of the metanet's code\n")
    capsys.readouterr()
    assert main(board) == 1
    made = f"made at {commit[:12]}" if commit else "made at an unknown commit"
    reason = f"stale — code changed since it was {made}"
    assert reason in capsys.readouterr().out
    markdown, page = (out / "README.md").read_text(), (out / "index.html").read_text()
    assert "| — | echo |" in markdown and f"reference; {reason}" in markdown
    assert '<tr class="reference stale"' in page and reason in page
    assert main(board[:-1]) == 0  # shown, marked; only --strict refuses it


def test_reproduce_matches_a_rerun_and_reports_a_changed_prediction(tmp_path, capsys):
    task = get_task("accuracy-prediction", zoo=TEST_ZOO)
    results = evaluate_metanet(task, "gmn", seeds=[0, 1], epochs=2, lr_grid=[3e-3], hparams={"hidden": 8, "layers": 1},
                               progress=False)
    path = save_results(results, task, tmp_path / "results")
    assert main(["reproduce", str(path.parent), "--seed", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("MATCH: gmn on accuracy-prediction, seed 1") and "tolerance 0;" not in printed
    assert f"differs: 0 of {results.n_test}" in printed and "tolerance 0\n" in printed

    document = json.loads(path.read_text())
    model_id = sorted(document["per_seed"][1]["predictions"])[0]
    document["per_seed"][1]["predictions"][model_id] += 1e-9  # the smallest change is a mismatch on the same CPU
    path.write_text(json.dumps(document))
    assert main(["reproduce", str(path), "--task", "accuracy-prediction", "--seed", "1", "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert printed.startswith("MISMATCH") and f"differs: 1 of {results.n_test}" in printed
    assert "max abs difference of a prediction: 1e-09" in printed and "kendall_tau: stored" in printed
    assert main(["reproduce", str(path), "--seed", "5", "--quiet"]) == 2
    assert "no seed 5" in capsys.readouterr().err
