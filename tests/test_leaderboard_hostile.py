"""The board survives hostile submissions: every one of the hostile corpus is rejected with its reason
or shown inert, the good submissions stay ranked, nothing injects into the pages, copies and
self-declared dates or reference marks gain nothing, and no submission holds the board past its time."""
import html
import itertools
import json
import re
import shutil
import unicodedata

from urllib.parse import urlparse

import cmarkgfm
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmn_bench.leaderboard import Ledger, SubmissionError, build_board, validate_submission
from gmn_bench.leaderboard.render import render_html, render_markdown
from gmn_bench.leaderboard.schema import LIMITS, SUBMISSION_SCHEMA
from leaderboard_corpus import CLASSIFICATION_TASK, MANIFEST, REGRESSION_TASK, RESULTS_FILE, _copy, board_zoos, \
    good_submission
from leaderboard_corpus.hostile import INERT, hostile
from limits import limited

TASKS = (REGRESSION_TASK, CLASSIFICATION_TASK)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """Two good submissions seen first; then every hostile and inert case; the board and its pages."""
    root = tmp_path_factory.mktemp("hostile")
    submissions = root / "submissions"
    good = [good_submission(submissions, "gmn", noise=0.02), good_submission(submissions, "flat-mlp", noise=0.2)]
    ledger = build_board(submissions, board_zoos(), now=lambda: "2026-11-20T00:00:00Z").ledger
    base = good_submission(root / "elsewhere", "base", noise=0.1)
    cases = hostile(good[0])
    for kind, (defect, _) in cases.items():
        defect(_copy(base, submissions, f"hostile-{kind}"))
    inert = {}
    for kind, defect in INERT.items():
        inert[kind] = good_submission(submissions, f"inert-{kind}", noise=0.15)
        defect(inert[kind])
    with limited(seconds=300, memory_bytes=4 * 2**30):
        built = build_board(submissions, board_zoos(), ledger=ledger, now=lambda: "2026-11-21T00:00:00Z")
        pages = render_markdown(built), render_html(built)
    return good, cases, inert, built, pages


def test_the_corpus_is_large_enough(board):
    _, cases, inert, _, _ = board
    assert len(cases) + len(INERT) >= 60


def test_every_hostile_submission_is_rejected_with_its_reason(board):
    _, cases, _, built, _ = board
    reasons = {r.name: r.reason for r in built.rejected}
    for kind, (_, reason) in cases.items():
        assert reason in reasons.get(f"hostile-{kind}", "(not rejected)"), kind
    assert sorted(reasons) == sorted(f"hostile-{kind}" for kind in cases)


def test_every_other_submission_is_still_ranked(board):
    good, _, inert, built, _ = board
    expected = sorted([g.name for g in good] + [f.name for f in inert.values()])
    for task in TASKS:
        assert sorted(e.submission.id for e in built.tasks[task]) == expected
    assert not [r for r in built.rejected if "took more than" in r.reason]


def _github(markdown: str) -> str:
    """The Markdown as GitHub renders it: cmark-gfm with its extensions (tables, autolinks, tag filter)."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown)


def test_pages_carry_no_injected_structure_or_hidden_characters(board):
    _, _, inert, built, (markdown, page) = board
    invisible = {"\u3164", "\u115f", "\u1160", "\uffa0", "\u2800"}
    hidden = {c for c in markdown + page if (unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} and c != "\n")
              or c in invisible}
    assert not hidden
    for section in markdown.split("\n## ")[1:]:
        rows = [line for line in section.splitlines() if line.startswith("|")]
        assert len({line.count("|") - line.count("\\|") for line in rows}) <= 1, section.splitlines()[0]
    assert 'href="javascript' not in page and 'href="data' not in page
    assert page.count("<script") == 1 and "<b>" not in page
    assert "<svg" in page and r"\frac{1}{0}" in page.replace("&#x27;", "'")  # the mathtext name, drawn as text
    shown = _github(markdown)
    assert "<b>" not in shown and "<img" not in shown and "<script" not in shown
    tables = re.findall(r"<table>.*?</table>", shown, re.S)
    assert len(tables) == len(built.tasks)
    for table in tables:
        assert len({row.count("<td") for row in re.findall(r"<tr>.*?</tr>", table, re.S)[1:]}) == 1
    allowed = {url for e in built.tasks[REGRESSION_TASK] for url in (e.submission.manifest["metanet"]["code"],
                                                                     e.submission.manifest["metanet"]["paper"]) if url}
    links = re.findall(r'<a href="([^"]*)"', shown)
    assert links and all(link.startswith("https://") for link in links)
    assert {urlparse(html.unescape(link)).netloc for link in links} <= {urlparse(u).netloc for u in allowed}
    assert "mallory@evil.example" in shown and "href=\"mailto" not in shown and "href=\"xmpp" not in shown


def test_a_name_that_autolinks_is_shown_as_code_and_blank_names_are_refused():
    from gmn_bench.leaderboard.escape import is_blank, markdown

    for text in ("www.example.org", "someone@example.org", "ftp://x.org/a", "xmpp:a@b.org", "a|b`c@d.org"):
        html_text = _github(f"| a |\n|---|\n| {markdown(text)} |")
        assert "<a " not in html_text and "<code>" in html_text and html.escape(text, quote=False) in html_text
    for text in ("\u3164", "\u115f\u1160", "\uffa0", "\u2800", " \u3000\u00a0", "\u0301", "\U000e0100"):
        assert is_blank(text), repr(text)
    for text in ("gmn\u3164", "\u3164.", "a", "\u2800x"):
        assert not is_blank(text), repr(text)


def test_claims_are_only_noted(board):
    _, _, inert, built, _ = board
    entry = next(e for e in built.tasks[REGRESSION_TASK] if e.submission.id == inert["claimed-1e308"].name)
    assert any("claimed 1e+308" in m for m in entry.score.mismatches) and abs(entry.value) <= 1


def test_copies_and_claimed_dates_gain_nothing(board):
    good, _, _, built, _ = board
    first_seen = {e.submission.id: e.record.first_seen for e in built.tasks[REGRESSION_TASK]}
    assert first_seen[good[0].name] == "2026-11-20T00:00:00Z"
    assert all(e.record.first_seen == "2026-11-21T00:00:00Z" for e in built.tasks[REGRESSION_TASK]
               if e.submission.id not in {g.name for g in good})
    assert not any(e.record.reference for entries in built.tasks.values() for e in entries)
    assert "reference" not in SUBMISSION_SCHEMA["properties"]


def test_a_submission_past_its_time_is_rejected_and_the_others_kept(tmp_path, monkeypatch):
    import gmn_bench.leaderboard.score as score

    submissions = tmp_path / "submissions"
    slow, fast = good_submission(submissions, "slow", noise=0.1), good_submission(submissions, "fast", noise=0.2)
    ticks, checking = itertools.count(), {}

    def clock():  # every look at the clock while the slow submission is checked takes 4 s; the others' are free
        return 4.0 * next(ticks) if checking["folder"] == slow.name else 0.0

    def validate(folder, *args, **kwargs):
        checking["folder"] = folder.name
        return validate_submission(folder, *args, **kwargs)

    monkeypatch.setattr(score, "validate_submission", validate)
    built = build_board(submissions, board_zoos(), clock=clock)
    (rejection,) = built.rejected
    assert rejection.name == slow.name and f"more than the {LIMITS.seconds:g} s a submission may take" in rejection.reason
    assert [e.submission.id for e in built.tasks[REGRESSION_TASK]] == [fast.name]


def test_loading_a_registered_zoo_is_the_boards_time_not_the_submissions(tmp_path, monkeypatch):
    import gmn_bench.leaderboard.validate as validate

    folder = good_submission(tmp_path / "submissions", "gmn", noise=0.1)
    now = [0.0]
    load_task = validate._task.__wrapped__

    def slow_load(*args):  # a cold zoo on a loaded machine: a minute per task
        now[0] += 60.0
        return load_task(*args)

    monkeypatch.setattr(validate, "_task", slow_load)
    submission = validate_submission(folder, board_zoos(), clock=lambda: now[0])
    assert REGRESSION_TASK in submission.scores
    now[0] = 0.0
    with pytest.raises(SubmissionError, match="more than the"):  # the submission's own time still counts
        validate_submission(folder, board_zoos(), clock=lambda: now.__setitem__(0, now[0] + 4.0) or now[0])


def test_a_rejected_or_changed_folder_is_dated_anew(tmp_path):
    submissions = tmp_path / "submissions"
    folder = good_submission(submissions, "gmn", noise=0.1)
    ledger = build_board(submissions, board_zoos(), now=lambda: "2026-11-20T00:00:00Z").ledger
    doc = json.loads((folder / RESULTS_FILE).read_text())
    doc["per_seed"][0]["predictions"] = {m: v + 0.01 for m, v in doc["per_seed"][0]["predictions"].items()}
    (folder / RESULTS_FILE).write_text(json.dumps(doc))
    built = build_board(submissions, board_zoos(), ledger=ledger, now=lambda: "2026-11-22T00:00:00Z")
    assert built.ledger.records[folder.name].first_seen == "2026-11-22T00:00:00Z"
    assert built.ledger.records[folder.name].sequence == 2
    again = build_board(submissions, board_zoos(), ledger=built.ledger, now=lambda: "2026-11-23T00:00:00Z")
    assert again.ledger.records == built.ledger.records
    ledger_file = built.ledger.save(tmp_path / "ledger.json")
    assert Ledger.load(ledger_file).records == built.ledger.records


def test_a_broken_ledger_is_an_error_naming_it(tmp_path):
    from gmn_bench.leaderboard.ledger import LedgerError

    path = tmp_path / "ledger.json"
    for text in ("[]", '{"schema": "gmn-bench/ledger/v1", "submissions": {"a": {"sequence": "1"}}}', "{"):
        path.write_text(text)
        with pytest.raises(LedgerError, match="ledger"):
            Ledger.load(path)


_NASTY_TEXT = st.sampled_from(["\n", "|", "\x00", "\u202e", "$", "$x^2$", "<script>", "](javascript:", "`", "\r\n", "\\"])
_NASTY_NUMBERS = st.sampled_from(["1" + "0" * 400, "1e999", "-1e308", "NaN", "9" * 17, "1e-400", "-0", "[[[[[[]]]]]]"])


@pytest.fixture(scope="module")
def fuzz_base(tmp_path_factory):
    return good_submission(tmp_path_factory.mktemp("fuzz-base") / "submissions", "fuzzed", noise=0.1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.sampled_from([MANIFEST, RESULTS_FILE]), st.data())
def test_any_hostile_edit_ends_in_a_reason_or_a_ranked_entry_within_limits(tmp_path_factory, fuzz_base, name, data):
    """Raw-text edits at random places of a good submission: a number, nesting or nasty text spliced in."""
    text = (fuzz_base / name).read_text()
    anchors = [m.end() for m in re.finditer(r'": ', text)]
    at = data.draw(st.sampled_from(anchors))
    value = data.draw(_NASTY_NUMBERS) if data.draw(st.booleans()) else json.dumps("x" + data.draw(_NASTY_TEXT))
    end = re.match(r'("(?:[^"\\]|\\.)*"|[^,}\]]*)', text[at:]).end()
    folder = tmp_path_factory.mktemp("fuzz") / "submissions" / fuzz_base.name
    shutil.copytree(fuzz_base, folder)
    (folder / name).write_text(text[:at] + value + text[at + end:])
    with limited(seconds=LIMITS.seconds * 3, memory_bytes=2 * 2**30):
        built = build_board(folder.parent, board_zoos())
        pages = render_markdown(built) + render_html(built)
    assert len(built.rejected) + bool(built.tasks) == 1
    if built.rejected:
        assert built.rejected[0].reason
    assert not any(unicodedata.category(c) in {"Cc", "Cf"} and c != "\n" for c in pages)


def test_submission_error_is_a_value_error():
    assert issubclass(SubmissionError, ValueError)


def test_a_copy_of_informative_class_labels_is_caught_and_few_wrong_labels_are_not(tmp_path):
    submissions = tmp_path / "submissions"
    original = good_submission(submissions, "guesser", noise=0.9, tasks=(CLASSIFICATION_TASK,))
    honest = good_submission(submissions, "good-classifier", noise=0.0, tasks=(CLASSIFICATION_TASK,))
    ledger = build_board(submissions, board_zoos()).ledger
    copy = _copy(original, submissions, "copy-of-guesser")
    twin = _copy(honest, submissions, "another-good-classifier")  # all labels right: shared by chance
    for folder, name in ((copy, "copycat"), (twin, "twin")):
        for path in folder.glob("*.json"):
            doc = json.loads(path.read_text())
            doc["metanet"]["name"] = name
            path.write_text(json.dumps(doc))
    built = build_board(submissions, board_zoos(), ledger=ledger)
    assert [(r.name, r.reason.split(" predictions")[0]) for r in built.rejected] == \
        [("copy-of-guesser", f"its {CLASSIFICATION_TASK}")]
    assert sorted(e.submission.id for e in built.tasks[CLASSIFICATION_TASK]) == \
        sorted([original.name, honest.name, twin.name])


def test_a_submission_whose_rows_cannot_be_drawn_is_rejected_and_the_board_still_written(tmp_path, monkeypatch):
    import gmn_bench.leaderboard.render as render
    from gmn_bench.leaderboard import rebuild

    submissions = tmp_path / "board" / "submissions"
    fine, broken = good_submission(submissions, "fine", noise=0.1), good_submission(submissions, "breaks-the-plot", noise=0.2)
    (submissions.parent / "zoos.json").write_text("{}")
    real = render.plot_label

    def label(text, width=40):
        if text == "breaks-the-plot":
            raise OverflowError("this name cannot be drawn")
        return real(text, width)

    monkeypatch.setattr(render, "plot_label", label)
    monkeypatch.setattr("gmn_bench.leaderboard.known_zoos", lambda registry: board_zoos())
    built = rebuild(submissions, tmp_path / "out", progress=False)
    assert [(r.name, r.reason) for r in built.rejected] == [
        (broken.name, "could not be shown on the board (OverflowError: this name cannot be drawn)")]
    assert [e.submission.id for e in built.tasks[REGRESSION_TASK]] == [fine.name]
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "this name cannot be drawn" in readme and (tmp_path / "out" / "index.html").exists()
    assert (submissions.parent / "ledger.json").exists()


def test_the_board_is_written_all_or_nothing(tmp_path, monkeypatch):
    import gmn_bench.leaderboard.render as render
    from gmn_bench.leaderboard import write_board

    submissions = tmp_path / "submissions"
    good_submission(submissions, "gmn", noise=0.1)
    built = build_board(submissions, board_zoos())
    out, ledger = tmp_path / "out", tmp_path / "ledger.json"
    for path in (out / "README.md", out / "index.html", ledger):
        path.parent.mkdir(exist_ok=True)
        path.write_text("old")
    monkeypatch.setattr(render, "render_html", lambda board: (_ for _ in ()).throw(RuntimeError("no page")))
    with pytest.raises(RuntimeError, match="no page"):
        write_board(built, out, ledger=ledger)
    assert [p.read_text() for p in (out / "README.md", out / "index.html", ledger)] == ["old"] * 3
    assert sorted(p.name for p in tmp_path.rglob("*.tmp")) == []
    monkeypatch.undo()
    write_board(built, out, ledger=ledger)
    assert "gmn" in (out / "README.md").read_text() and Ledger.load(ledger).records == built.ledger.records


def test_a_ranking_exactly_backwards_is_drawn(board):
    _, _, inert, built, (_, page) = board
    entry = next(e for e in built.tasks[REGRESSION_TASK] if e.submission.id == inert["backwards-ranking"].name)
    assert entry.value == -1.0 and entry.rank == len(built.tasks[REGRESSION_TASK])
    assert inert["backwards-ranking"].name in page
