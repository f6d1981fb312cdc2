"""What the board says about uncertainty: n, each entry's interval, a paired test against the leader on
the same test networks (not rounding), every entry's margin over the best trivial baseline and over the
recipe reference line, and the recipe track ranked apart."""
import dataclasses
import statistics

import pytest

from gmn_bench.evaluation import MetanetInfo, Results, SeedResult
from gmn_bench.evaluation.stats import interval, paired_difference
from gmn_bench.leaderboard import Ledger, add_references, build_board, package_submission, write_submission
from gmn_bench.leaderboard.render import render_html, render_markdown
from gmn_bench.tasks import get_task, zoo_fingerprint
from conftest import TEST_ZOO
from leaderboard_corpus import REGRESSION_TASK, board_zoos, write_results

TASK = get_task(REGRESSION_TASK, zoo=TEST_ZOO)


def _results(metanet: str, predict, seeds=(0, 1), track="weights") -> dict:
    """A results file of ``metanet`` (on ``track``) whose seed ``s`` predicts ``predict(truth, s)`` for every
    test network."""
    truth = TASK.targets("test")
    per_seed = []
    for seed in seeds:
        predictions = {m: predict(t, seed) for m, t in truth.items()}
        per_seed.append(SeedResult(seed, TASK.evaluate(predictions), predictions, 1, 1.0))
    built = Results.build(TASK, zoo_fingerprint(TEST_ZOO), MetanetInfo(metanet, 10, {}, track=track), {}, None,
                          per_seed, deterministic=len(seeds) == 1, total_seconds=1.0)
    return dataclasses.replace(built, created="2026-11-23T06:00:00Z").to_json()


def _submit(root, document, submitted):
    paths = write_results(root / "results" / document["metanet"]["name"], [document])
    package = package_submission(paths, authors=["A"], submitted=submitted, zoos=board_zoos())
    return write_submission(package, root / "submissions")


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    root = tmp_path_factory.mktemp("board")
    mean = statistics.fmean(TASK.targets("train").values())
    _submit(root, _results("oracle", lambda t, s: t), "2026-11-20T00:00:00Z")
    # the same ranking as the oracle, other values: every resample scores both the same
    _submit(root, _results("monotone", lambda t, s: 2 * t + 0.1), "2026-11-21T00:00:00Z")
    _submit(root, _results("reversed", lambda t, s: -t), "2026-11-22T00:00:00Z")
    _submit(root, _results("constant", lambda t, s: 0.5, seeds=(0,)), "2026-11-22T00:00:00Z")  # not a reference
    write_results(root / "reference" / "constant", [_results("constant", lambda t, s: mean, seeds=(0,))])
    # the recipe line and a recipe-track diagnostic: coarser rankings than the oracle's
    write_results(root / "reference" / "recipe", [_results("recipe", lambda t, s: round(t, 1), (0,), "recipe")])
    _submit(root, _results("recipe+statnn", lambda t, s: round(t, 2), (0,), "recipe"), "2026-11-22T00:00:00Z")
    add_references(root / "reference", root / "submissions", zoos=board_zoos())
    return build_board(root / "submissions", board_zoos(), ledger=Ledger.load(root / "ledger.json"))


def _entry(board, name, reference=False):
    """The entry of metanet ``name`` and its statistics."""
    entry = next(e for e in board.tasks[REGRESSION_TASK]
                 if e.submission.manifest["metanet"]["name"] == name and e.record.reference == reference)
    return entry, board.statistics[REGRESSION_TASK][entry.submission.id]


def test_entries_tied_in_every_resample_share_the_lead_and_others_do_not(board):
    (oracle, first), (monotone, tied), (reversed_, last) = (_entry(board, n) for n in ("oracle", "monotone", "reversed"))
    assert oracle.rank == monotone.rank == 1 and first.vs_leader is None and first.ties_leader
    assert tied.vs_leader.difference == 0.0 and tied.vs_leader.indistinguishable and tied.ties_leader
    assert last.vs_leader.difference == pytest.approx(-2.0) and not last.ties_leader
    expected = paired_difference("kendall_tau", reversed_.score.y_true, reversed_.score.y_pred, oracle.score.y_pred)
    assert (last.vs_leader.difference, last.vs_leader.low, last.vs_leader.high) == expected


def test_every_entry_has_n_and_its_interval_over_test_networks(board):
    for entry in board.tasks[REGRESSION_TASK]:
        stats = board.statistics[REGRESSION_TASK][entry.submission.id]
        assert entry.score.n_test == len(TASK.ids("test")) == 9
        assert stats.interval == interval("kendall_tau", entry.score.y_true, entry.score.y_pred)
        assert stats.interval[0] <= entry.value <= stats.interval[1]


def test_the_margin_is_over_the_best_trivial_reference_entry_only(board):
    floor, floor_stats = _entry(board, "constant", reference=True)
    assert floor_stats.margin is None and floor.score.std["kendall_tau"] is None  # one run: no spread
    _, oracle = _entry(board, "oracle")
    assert oracle.margin.difference == pytest.approx(1.0) and oracle.margin.low > 0
    _, impostor = _entry(board, "constant")  # a submission merely named like a baseline is not the floor
    assert impostor.margin is not None and impostor.margin.difference == 0.0


def test_the_pages_show_n_intervals_and_the_marks(board):
    markdown, page = render_markdown(board), render_html(board)
    _, oracle = _entry(board, "oracle")
    line = next(x for x in markdown.splitlines() if x.startswith("| 1 | oracle"))
    assert f"| [{oracle.interval[0]:.4f}, {oracle.interval[1]:.4f}] | leader | +1.0000 [" in line
    assert "| 9 | 2 |" in line
    monotone_line = next(x for x in markdown.splitlines() if x.startswith("| 1 | monotone"))
    assert "+0.0000 [+0.0000, +0.0000] ≈" in monotone_line and "indistinguishable from the leader" in monotone_line
    assert "(1 run)" in markdown and "| 95% CI | vs leader | over trivial |" in markdown
    assert "n = 9 test networks" in page and "95% CI over the n test networks" in page


def test_the_recipe_track_is_ranked_apart_below_the_weights_track(board):
    entries = board.tasks[REGRESSION_TASK]
    tracks = [e.score.track for e in entries]
    assert tracks == sorted(tracks, key=lambda t: t != "weights") and tracks.count("recipe") == 2
    recipe_entries = [e for e in entries if e.score.track == "recipe"]
    assert recipe_entries[0].rank == 1 and recipe_entries[0].value >= recipe_entries[1].value
    assert max(e.value for e in recipe_entries) > min(e.value for e in entries if e.score.track == "weights")


def test_every_entry_has_its_paired_margin_over_the_recipe_line(board):
    recipe, recipe_stats = _entry(board, "recipe", reference=True)
    assert recipe_stats.over_recipe is None and recipe.score.track == "recipe"
    for name in ("oracle", "reversed", "recipe+statnn"):
        entry, stats = _entry(board, name)
        expected = paired_difference("kendall_tau", entry.score.y_true, entry.score.y_pred, recipe.score.y_pred)
        assert (stats.over_recipe.difference, stats.over_recipe.low, stats.over_recipe.high) == expected
    _, oracle = _entry(board, "oracle")
    assert oracle.over_recipe.difference > 0
    markdown, page = render_markdown(board), render_html(board)
    assert "| over trivial | over recipe |" in markdown
    line = next(x for x in markdown.splitlines() if "| recipe+statnn |" in x)
    assert line.startswith("| 1 | recipe+statnn | recipe |")
    assert f"{oracle.over_recipe.difference:+.4f} [{oracle.over_recipe.low:+.4f}, {oracle.over_recipe.high:+.4f}]" in \
        next(x for x in markdown.splitlines() if x.startswith("| 1 | oracle | weights |"))
    assert "<th scope=\"col\" title=\"click to sort\">over recipe</th>" in page
