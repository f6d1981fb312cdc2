"""The leaderboard: submission packaging (local and Hub PR), strict checks, re-scoring, ranking, rendering."""
import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmn_bench.cli import main
from gmn_bench.tasks import get_task
from gmn_bench.leaderboard import (Ledger, Record, SubmissionError, build_board, package_submission, register_zoo,
                                   validate_submission, write_board, write_submission)
from gmn_bench.leaderboard.render import render_html, render_markdown
from gmn_bench.leaderboard.score import rank
from gmn_bench.leaderboard.validate import Submission, TaskScore
from gmn_bench.leaderboard.zoos import KnownZoo
from conftest import TEST_ZOO
from leaderboard_corpus import (BAD, BAD_FOLDERS, CLASSIFICATION_TASK, REGRESSION_TASK, good_submission, results,
                                board_zoos, write_results)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two good submissions and every bad case of the corpus in one submissions folder, and its board."""
    from leaderboard_corpus import build_corpus

    submissions = tmp_path_factory.mktemp("corpus") / "submissions"
    good = [good_submission(submissions, "gmn", noise=0.02), good_submission(submissions, "flat-mlp", noise=0.2)]
    expected = build_corpus(submissions, good[0])
    return good, expected, build_board(submissions, board_zoos())


@pytest.mark.parametrize("name", [f"bad-{kind}" for kind in BAD] + list(BAD_FOLDERS))
def test_every_bad_submission_is_rejected_with_its_reason(corpus, name):
    _, expected, board = corpus
    reasons = {r.name: r.reason for r in board.rejected}
    assert name in reasons, f"{name} was not rejected"
    assert expected[name] in reasons[name]


def test_board_keeps_every_good_submission_and_none_of_the_bad(corpus):
    good, expected, board = corpus
    assert sorted(r.name for r in board.rejected) == sorted(expected)
    assert list(board.tasks) == [REGRESSION_TASK, CLASSIFICATION_TASK]
    for entries in board.tasks.values():
        assert sorted(e.submission.id for e in entries) == sorted(f.name for f in good)
    assert [e.submission.manifest["metanet"]["name"] for e in board.tasks[REGRESSION_TASK]] == ["gmn", "flat-mlp"]
    page, markdown = render_html(board), render_markdown(board)
    for rejection in board.rejected:
        assert f'data-submission="{rejection.name}"' not in page
    assert markdown.count("| gmn") == 0 and markdown.count("[gmn](https://example.org/gmn)") == 2


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                     | st.text(max_size=8), lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["submission.json", f"{REGRESSION_TASK}.json", f"{CLASSIFICATION_TASK}.json"]), st.data())
def test_any_edit_of_a_good_submission_is_accepted_or_rejected_never_crashes(corpus, name, data):
    good = corpus[0][0]
    doc = json.loads((good / name).read_text())
    node = doc
    while True:  # walk down to a random container, then replace or delete one of its items
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        if isinstance(node[key], (dict, list)) and node[key] and data.draw(st.booleans()):
            node = node[key]
            continue
        if data.draw(st.booleans()):
            node[key] = data.draw(_JSON)
        else:
            del node[key]
        break
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(shutil.copytree(good, Path(tmp) / good.name))
        (folder / name).write_text(json.dumps(doc))
        try:
            validate_submission(folder, board_zoos())
        except SubmissionError as e:
            assert str(e)


def test_claimed_scores_are_never_trusted(tmp_path):
    submissions = tmp_path / "submissions"
    paths = write_results(tmp_path / "results", [results(REGRESSION_TASK, "boaster", noise=0.1)])
    honest = json.loads(paths[0].read_text())
    tampered = json.loads(paths[0].read_text())
    for seed in tampered["per_seed"]:
        seed["metrics"]["kendall_tau"] = 1.0
    tampered["metrics"]["kendall_tau"]["mean"] = 1.0
    paths[0].write_text(json.dumps(tampered))
    folder = write_submission(package_submission(paths, authors=["B"], zoos=board_zoos()), submissions)
    score = validate_submission(folder, board_zoos()).scores[REGRESSION_TASK]
    task = get_task(REGRESSION_TASK, zoo=TEST_ZOO)
    rescored = [task.evaluate(s["predictions"])["kendall_tau"] for s in honest["per_seed"]]
    assert score.mean["kendall_tau"] == pytest.approx(sum(rescored) / 3) != pytest.approx(1.0)
    assert len(score.mismatches) == 4 and "claimed 1.0" in score.mismatches[0]
    assert "claimed scores differ from re-scored (4)" in render_markdown(build_board(submissions, board_zoos()))


def test_ranking_ties_share_a_rank_and_follow_the_order_the_board_saw_them(tmp_path):
    submissions = tmp_path / "submissions"
    first = good_submission(submissions, "twin", noise=0.3, submitted="2026-11-24T00:00:00Z", tasks=(REGRESSION_TASK,))
    ledger = build_board(submissions, board_zoos(), now=lambda: "2026-11-20T00:00:00Z").ledger
    # the later one claims an earlier date: the board goes by its own record
    later = good_submission(submissions, "twin", noise=0.305, submitted="2026-11-01T00:00:00Z", tasks=(REGRESSION_TASK,))
    perfect = good_submission(submissions, "oracle", noise=0.0, tasks=(REGRESSION_TASK,))
    board = build_board(submissions, board_zoos(), ledger=ledger, now=lambda: "2026-11-21T00:00:00Z")
    entries = board.tasks[REGRESSION_TASK]
    assert entries[1].value == entries[2].value  # only exactly equal scores tie
    assert [(e.rank, e.submission.folder.name) for e in entries] == [(1, perfect.name), (2, first.name), (2, later.name)]
    assert [e.record.first_seen for e in entries] == ["2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z",
                                                      "2026-11-21T00:00:00Z"]
    assert entries[0].value == 1.0


def _fake(value: float, sequence: int, name: str) -> tuple[Submission, Record]:
    score = TaskScore("t", "kendall_tau", 10, (0,), ({"kendall_tau": value},), {"kendall_tau": value},
                      {"kendall_tau": None}, (), (), (0.1, 0.2, 0.3), ((0.1, 0.3, 0.2),))
    manifest = {"id": f"{name}-{sequence}-{value}", "metanet": {"name": name}}
    submission = Submission(Path(manifest["id"]), manifest, KnownZoo("z", "z", None, "sha256:0"), {"t": score})
    return submission, Record(sequence, "2026-01-01T00:00:00Z", "sha256:" + "0" * 64)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.1, 0.12344, 0.12341, 0.5, -0.2]), st.integers(1, 3),
                          st.sampled_from(["a", "b"])), min_size=1, max_size=8, unique=True), st.randoms())
def test_ranking_is_order_independent_and_follows_the_tie_rules(items, rng):
    fakes = [_fake(*item) for item in items]
    submissions, records = [s for s, _ in fakes], {s.id: r for s, r in fakes}
    entries = rank(submissions, "t", records)
    rng.shuffle(submissions)
    assert [e.submission.id for e in rank(submissions, "t", records)] == [e.submission.id for e in entries]
    for e in entries:
        better = [o for o in entries if o.value > e.value]
        assert e.rank == 1 + len(better)
    for a, b in zip(entries, entries[1:], strict=False):
        if a.rank == b.rank:
            assert (a.record.sequence, a.submission.manifest["metanet"]["name"]) <= \
                   (b.record.sequence, b.submission.manifest["metanet"]["name"])


def test_submit_then_rebuild_from_the_command_line(tmp_path, capsys):
    paths = write_results(tmp_path / "results", [results(t, "my-metanet") for t in (REGRESSION_TASK, CLASSIFICATION_TASK)])
    submissions, out = tmp_path / "submissions", tmp_path / "board"
    submissions.mkdir()
    assert main(["leaderboard", "--register-zoo", str(TEST_ZOO), "--zoo-name", "test zoo", "--submissions",
                 str(submissions), "--out", str(out)]) == 0
    assert main(["submit", *map(str, paths), "--author", "Ada", "--author", "Grace", "--code", "https://example.org/code",
                 "--out", str(submissions)]) == 0
    (folder,) = submissions.iterdir()
    assert sorted(p.name for p in folder.iterdir()) == sorted(["submission.json", f"{REGRESSION_TASK}.json",
                                                               f"{CLASSIFICATION_TASK}.json"])
    manifest = json.loads((folder / "submission.json").read_text())
    assert manifest["authors"] == ["Ada", "Grace"] and manifest["metanet"] == {
        "name": "my-metanet", "n_params": 1234, "paper": None, "code": "https://example.org/code"}
    assert main(["leaderboard", "--submissions", str(submissions), "--out", str(out), "--strict"]) == 0
    assert "[my-metanet](https://example.org/code)" in (out / "README.md").read_text()
    assert list(Ledger.load(tmp_path / "ledger.json").records) == [folder.name]
    assert f'data-submission="{folder.name}"' in (out / "index.html").read_text()
    assert main(["submit", *map(str, paths), "--author", "Ada", "--token", "hf_x", "--out", str(submissions)]) == 2
    assert "--repo-id" in capsys.readouterr().err


def test_submit_opens_a_hub_pull_request(tmp_path, monkeypatch, capsys):
    import huggingface_hub

    calls = []

    class FakeHfApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_commit(self, **kwargs):
            calls.append(("create_commit", kwargs))
            return huggingface_hub.CommitInfo(commit_url="https://huggingface.co/datasets/org/board/commit/abc",
                                              commit_message=kwargs["commit_message"], commit_description="",
                                              oid="a" * 40, pr_url="https://huggingface.co/datasets/org/board/discussions/1")

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    register_zoo(tmp_path / "zoos.json", "test zoo", TEST_ZOO)
    paths = write_results(tmp_path / "results", [results(REGRESSION_TASK, "hub-net")])
    assert main(["submit", *map(str, paths), "--author", "Ada", "--repo-id", "org/board", "--out", str(tmp_path / "x")]) == 0
    assert "discussions/1" in capsys.readouterr().out and not (tmp_path / "x").exists()
    (init, token), (name, kwargs) = calls
    assert token == "hf_secret" and name == "create_commit"
    assert kwargs["repo_id"] == "org/board" and kwargs["repo_type"] == "dataset" and kwargs["create_pr"] is True
    uploaded = {op.path_in_repo: op.path_or_fileobj for op in kwargs["operations"]}
    (submission_id,) = {p.split("/")[1] for p in uploaded}
    assert sorted(uploaded) == [f"submissions/{submission_id}/{REGRESSION_TASK}.json",
                                f"submissions/{submission_id}/submission.json"]
    assert uploaded[f"submissions/{submission_id}/{REGRESSION_TASK}.json"] == paths[0].read_bytes()
    for path, content in uploaded.items():  # what lands in the PR passes the leaderboard's checks
        (tmp_path / "hub" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "hub" / path).write_bytes(content)
    assert validate_submission(tmp_path / "hub" / "submissions" / submission_id, board_zoos()).id == submission_id


def test_packaging_refuses_inconsistent_or_bad_results(tmp_path):
    mixed = write_results(tmp_path / "a", [results(REGRESSION_TASK, "one"), results(CLASSIFICATION_TASK, "two")])
    with pytest.raises(SubmissionError, match="disagree on metanet.name"):
        package_submission(mixed, authors=["A"], zoos=board_zoos())
    short = results(REGRESSION_TASK, "short")
    short["per_seed"][0]["predictions"].popitem()
    with pytest.raises(SubmissionError, match="1 test networks have no prediction"):
        package_submission(write_results(tmp_path / "b", [short]), authors=["A"], zoos=board_zoos())
    with pytest.raises(SubmissionError, match="schema violation at metanet/paper"):
        package_submission(write_results(tmp_path / "c", [results(REGRESSION_TASK)]), authors=["A"], paper="ftp://x",
                           zoos=board_zoos())


def test_reference_entries_come_from_a_folder_of_results(tmp_path):
    reference = tmp_path / "reference-results"
    # a classification head makes gmn larger on that task; a tree ensemble has no parameter count
    for metanet, sizes in (("gmn", (1234, 1300)), ("statnn-gbt", (None, None))):
        write_results(reference / metanet, [results(t, metanet, noise=0.1, n_params=n)
                                            for t, n in zip((REGRESSION_TASK, CLASSIFICATION_TASK), sizes)])
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    good_submission(submissions, "newcomer", noise=0.5)
    register_zoo(tmp_path / "zoos.json", "test zoo", TEST_ZOO)
    assert main(["leaderboard", "--add-reference", str(reference), "--submissions", str(submissions), "--out", str(out),
                 "--reference-code", "https://example.org/gmn-bench"]) == 0
    ledger = Ledger.load(tmp_path / "ledger.json")
    board = build_board(submissions, board_zoos(), ledger=ledger)
    for entries in board.tasks.values():
        refs = {e.submission.manifest["metanet"]["name"]: e for e in entries if e.record.reference}
        assert sorted(refs) == ["gmn", "statnn-gbt"] and refs["gmn"].submission.manifest["metanet"]["n_params"] == 1300
        assert all(e.submission.manifest["authors"] == ["gmn-bench developers"] for e in refs.values())
        newcomer = [e for e in entries if not e.record.reference]
        assert [e.submission.manifest["metanet"]["name"] for e in newcomer] == ["newcomer"]
        assert all(e.record.sequence > refs["gmn"].record.sequence for e in newcomer)  # recorded after the references
    page = (out / "index.html").read_text()
    markdown = (out / "README.md").read_text()
    assert page.count('<tr class="reference"') == 4 and "| reference |" in markdown
    assert re.search(r"\| \[statnn-gbt\]\([^)]*\) \|.*\| n/a \|", markdown)
    assert "| 1,234 |" in markdown and "| 1,300 |" in markdown


def test_rebuilding_the_board_is_deterministic(tmp_path):
    submissions = tmp_path / "submissions"
    good_submission(submissions, "gmn", noise=0.1)
    board = build_board(submissions, board_zoos())
    first = [p.read_bytes() for p in write_board(board, tmp_path / "a")]
    second = [p.read_bytes() for p in write_board(build_board(submissions, board_zoos(), ledger=board.ledger), tmp_path / "b")]
    assert first == second and b"<svg" in first[1]
    with pytest.raises(ValueError, match="is not a folder of submissions"):
        build_board(tmp_path / "missing")


def test_rendered_pages_escape_submitted_text_and_need_no_network(tmp_path):
    submissions = tmp_path / "submissions"
    good_submission(submissions, "<img src=x onerror=alert(1)>|pwn", noise=0.1)
    readme, page = write_board(build_board(submissions, board_zoos()), tmp_path)
    html_text, markdown = page.read_text(), readme.read_text()
    assert "<img" not in html_text and "&lt;img src=x onerror=alert(1)&gt;|pwn" in html_text
    assert "<img" not in markdown and "&#124;pwn" in markdown
    assert "<svg" in html_text and "<style>" in html_text and "<script>" in html_text
    assert set(re.findall(r'<([\w:]+)[^>]*\b(?:src|href)="(?!#)', html_text)) == {"a"}  # only links leave the page
