"""Showing the board: Markdown (``README.md``) and a self-contained static HTML page (``index.html``).

Both have one table per task. The page needs no network: its CSS, the vanilla-JS column
sorting (click a header; click again to reverse) and the score plot (an inline matplotlib SVG)
are all inside the file. Every submitted string goes through :mod:`gmn_bench.leaderboard.escape`
(it can change nothing but its own cell: no Markdown or HTML, no line breaks, no hidden or bidi
characters, no mathtext in the plot), and links are only ``http(s)`` URLs (the schema refuses
anything else). Dates and reference marks come from the board's ledger, not from submissions.
"""
from __future__ import annotations

import html
import io
import os
import tempfile
from pathlib import Path

from matplotlib.figure import Figure

from gmn_bench.evaluation.stats import CONFIDENCE
from gmn_bench.tasks import TASKS

from .escape import html_text, markdown, markdown_link, plot_label
from .score import Board, Entry
from .uncertainty import Comparison, EntryStatistics

_CI = f"{CONFIDENCE:.0%} CI"
RULES = ("Each task ranks by its rank metric (Kendall's tau for regression tasks, accuracy for "
         "classification; higher is better), re-scored by the leaderboard from the submitted test-set "
         "predictions and averaged over seeds: mean ± sample standard deviation over seeds (\"1 run\" for a "
         f"deterministic metanet). {_CI}: bootstrap interval of the score over the n test networks. "
         "\"vs leader\": the score minus the leader's on the same test networks, with its paired bootstrap "
         f"{_CI}; ≈ marks entries statistically indistinguishable from the leader (the interval contains 0). "
         "\"over trivial\": the same paired difference to the best trivial baseline (constant, architecture "
         "only); \"over recipe\": to the recipe reference line (trees on the recorded training recipe and the "
         "architecture; it reads no weight). Track: what a metanet reads. \"weights\" (ranked first): the "
         "network only (id, family, architecture, size, weights); \"recipe\" (ranked apart, below): also the "
         "recorded training recipe (optimizer, learning rate, weight decay, label smoothing, batch size, epochs, "
         "train fraction, augmentation; never the task's target). Exactly equal scores share a rank; tied rows "
         "are listed in the order the board first saw them "
         "(the Submitted date is the board's own record), then by metanet name. A copy of an earlier entry's "
         "predictions is rejected. Other metrics are shown, not ranked: regression R² and RMSE, classification "
         "macro-F1. Commit: the gmn-bench commit that made the results. A reference entry whose metanet code has "
         "changed since that commit is stale: listed last, without a rank, until it is made again.")


def _metric_columns(entries: list[Entry]) -> list[str]:
    first = entries[0].score
    return [first.rank_metric, *(m for m in first.mean if m != first.rank_metric)]


def _headers(metrics: list[str]) -> list[str]:
    return ["Rank", "Metanet", "Track", f"{metrics[0]} (mean ± std)", _CI, "vs leader", "over trivial", "over recipe",
            *metrics[1:], "n", "Seeds", "Params", "Authors", "Submitted", "Commit", "Paper", "Notes"]


def _mean_std(entry: Entry, metric: str) -> str:
    std = entry.score.std[metric]
    return f"{entry.score.mean[metric]:.4f} " + (f"± {std:.4f}" if std is not None else "(1 run)")


def _interval(stats: EntryStatistics) -> str:
    return f"[{stats.interval[0]:.4f}, {stats.interval[1]:.4f}]"


def _comparison(comparison: Comparison | None, missing: str) -> str:
    if comparison is None:
        return missing
    mark = " ≈" if comparison.indistinguishable else ""
    return f"{comparison.difference:+.4f} [{comparison.low:+.4f}, {comparison.high:+.4f}]{mark}"


def _vs_leader(stats: EntryStatistics) -> str:
    return _comparison(stats.vs_leader, "leader")


def _margin(stats: EntryStatistics) -> str:
    return _comparison(stats.margin, "—")


def _rank(entry: Entry) -> str:
    return "—" if entry.rank is None else str(entry.rank)


def _commit(entry: Entry) -> str:
    return (entry.score.commit or "")[:12]


def _over_recipe(stats: EntryStatistics) -> str:
    return _comparison(stats.over_recipe, "—")


def _notes(entry: Entry, stats: EntryStatistics) -> str:
    notes = ["reference"] if entry.record.reference else []
    if entry.stale:
        notes.append(entry.stale)
    if stats.vs_leader is not None and stats.vs_leader.indistinguishable:
        notes.append("indistinguishable from the leader")
    if entry.score.mismatches:
        notes.append(f"claimed scores differ from re-scored ({len(entry.score.mismatches)})")
    return "; ".join(notes)


def render_markdown(board: Board) -> str:
    """The board as Markdown: the rules, then one table per task (and the rejected folders, if any)."""
    lines = ["# gmn-bench leaderboard", "", "Rebuilt by `gmn-bench leaderboard`; do not edit by hand. To enter, run "
             "`gmn-bench submit` (see docs/leaderboard.md in the repository).", "", RULES, ""]
    if not board.tasks:
        lines += ["No submissions yet.", ""]
    for task, entries in board.tasks.items():
        metrics = _metric_columns(entries)
        zoos = sorted({e.submission.zoo.name for e in entries})
        headers = _headers(metrics)
        lines += [f"## {task}", "", f"{TASKS[task].description} Zoo: {markdown(', '.join(zoos))}.", "",
                  "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        for e in entries:
            meta, stats = e.submission.manifest, board.statistics[task][e.submission.id]
            cells = [_rank(e), markdown_link(meta["metanet"]["name"], meta["metanet"]["code"]), e.score.track,
                     _mean_std(e, metrics[0]), _interval(stats), _vs_leader(stats), _margin(stats), _over_recipe(stats),
                     *(_mean_std(e, m) for m in metrics[1:]), str(e.score.n_test), str(len(e.score.seeds)),
                     _params(e.score.n_params), markdown(", ".join(meta["authors"])), e.record.first_seen[:10],
                     markdown(_commit(e)),
                     markdown_link("paper", meta["metanet"]["paper"]) if meta["metanet"]["paper"] else "",
                     markdown(_notes(e, stats))]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if board.rejected:
        lines += ["## Rejected submissions", "", *(f"- {markdown(r.name)}: {markdown(r.reason)}" for r in board.rejected),
                  ""]
    return "\n".join(lines)


def _plot_svg(board: Board) -> str:
    """Horizontal bars of each entry's rank metric (mean over seeds) with its 95% interval over
    test networks, one panel per task, n in its title."""
    import matplotlib

    tasks = list(board.tasks.items())
    heights = [0.6 + 0.35 * len(entries) for _, entries in tasks]
    # submitted names are plain text: no mathtext ($...$) or TeX, which could fail and take the page down
    with matplotlib.rc_context({"svg.hashsalt": "gmn-bench-leaderboard", "svg.fonttype": "path",
                                "text.parse_math": False, "text.usetex": False}):
        fig = Figure(figsize=(7.5, sum(heights) + 0.6 * len(tasks)), layout="constrained")
        axes = fig.subplots(len(tasks), 1, squeeze=False, height_ratios=heights)[:, 0]
        for ax, (task, entries) in zip(axes, tasks, strict=True):
            names = [plot_label(e.submission.manifest["metanet"]["name"]) for e in entries][::-1]
            values = [e.value for e in entries][::-1]
            lows, highs = zip(*(sorted(board.statistics[task][e.submission.id].interval) for e in entries[::-1]))
            colors = ["#8c8c8c" if e.record.reference else "#3b6fb6" for e in entries][::-1]
            ax.barh(range(len(entries)), values, color=colors)
            # the interval is drawn from its own ends: a bootstrap interval need not contain the mean it is
            # drawn beside (a percentile interval of a skewed or degenerate statistic, e.g. tau = -1 everywhere)
            ax.errorbar([(low + high) / 2 for low, high in zip(lows, highs)], range(len(entries)),
                        xerr=[(high - low) / 2 for low, high in zip(lows, highs)], fmt="none", ecolor="black",
                        capsize=3, linewidth=1)
            ax.set_yticks(range(len(entries)), names)
            ax.axvline(0, color="black", linewidth=0.8)
            sizes = sorted({e.score.n_test for e in entries})
            ax.set_title(f"{task} (n = {', '.join(map(str, sizes))} test networks)", fontsize=10, loc="left")
            ax.set_xlabel(entries[0].score.rank_metric)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 90rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 2rem; width: 100%; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35rem 0.6rem; text-align: left; }
th { cursor: pointer; background: #f3f5f8; user-select: none; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.reference td { color: #555; font-style: italic; }
tr.stale td { color: #a33; text-decoration: line-through; }
tr.stale td:last-child { text-decoration: none; }
.rules { background: #f7f7f7; padding: 0.7rem 1rem; border-left: 4px solid #3b6fb6; }
figure svg { max-width: 100%; height: auto; }
"""

_JS = """
document.querySelectorAll("table.board").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var descending = th.getAttribute("aria-sort") !== "descending";
      table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort"), y = b.cells[column].getAttribute("data-sort");
        var numeric = x !== "" && y !== "" && !isNaN(Number(x)) && !isNaN(Number(y));
        var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return descending ? -order : order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _params(n_params: int | None) -> str:
    return "n/a" if n_params is None else f"{n_params:,}"


def _cell(text: str, sort_value, numeric: bool = False, raw: bool = False) -> str:
    css = ' class="num"' if numeric else ""
    return f'<td{css} data-sort="{html_text(sort_value)}">{text if raw else html_text(text)}</td>'


def _link(text: str, url: str | None) -> str:
    return f'<a href="{html_text(url)}" rel="noopener nofollow">{html_text(text)}</a>' if url else html_text(text)


def _html_table(task: str, entries: list[Entry], statistics: dict[str, EntryStatistics]) -> str:
    metrics = _metric_columns(entries)
    headers = _headers(metrics)
    rows = []
    for e in entries:
        meta, stats = e.submission.manifest, statistics[e.submission.id]
        cells = [_cell(_rank(e), e.rank if e.rank is not None else "", numeric=True),
                 _cell(_link(meta["metanet"]["name"], meta["metanet"]["code"]), meta["metanet"]["name"], raw=True),
                 _cell(e.score.track, e.score.track),
                 _cell(_mean_std(e, metrics[0]), repr(e.value), numeric=True),
                 _cell(_interval(stats), repr(stats.interval[0]), numeric=True),
                 _cell(_vs_leader(stats), repr(stats.vs_leader.difference if stats.vs_leader else 0.0), numeric=True),
                 _cell(_margin(stats), repr(stats.margin.difference) if stats.margin else "", numeric=True),
                 _cell(_over_recipe(stats), repr(stats.over_recipe.difference) if stats.over_recipe else "",
                       numeric=True),
                 *(_cell(_mean_std(e, m), repr(e.score.mean[m]), numeric=True) for m in metrics[1:]),
                 _cell(str(e.score.n_test), e.score.n_test, numeric=True),
                 _cell(str(len(e.score.seeds)), len(e.score.seeds), numeric=True),
                 _cell(_params(e.score.n_params), e.score.n_params or "", numeric=True),
                 _cell(", ".join(meta["authors"]), ", ".join(meta["authors"])),
                 _cell(e.record.first_seen[:10], e.record.first_seen),
                 _cell(_commit(e), _commit(e)),
                 _cell(_link("paper", meta["metanet"]["paper"]) if meta["metanet"]["paper"] else "",
                       meta["metanet"]["paper"] or "", raw=True),
                 _cell(_notes(e, stats), _notes(e, stats))]
        css = ' class="reference stale"' if e.stale else ' class="reference"' if e.record.reference else ""
        rows.append(f'<tr{css} data-submission="{html_text(e.submission.id)}">' + "".join(cells) + "</tr>")
    head = "".join(f'<th scope="col" title="click to sort">{html.escape(h)}</th>' for h in headers)
    zoos = ", ".join(sorted({e.submission.zoo.name for e in entries}))
    return (f'<section id="{task}"><h2>{task}</h2><p>{html.escape(TASKS[task].description)} Zoo: {html_text(zoos)}.</p>'
            f'<table class="board" data-task="{task}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


def render_html(board: Board) -> str:
    """The board as one self-contained HTML page (inline CSS, JS and SVG; no external resources)."""
    tables = "".join(_html_table(t, e, board.statistics[t]) for t, e in board.tasks.items()) or \
        "<p>No submissions yet.</p>"
    plot = (f"<h2>Scores</h2><figure>{_plot_svg(board)}<figcaption>Each task's rank metric, mean over seeds with "
            f"its {_CI} over the n test networks; grey bars are the reference metanets.</figcaption></figure>"
            ) if board.tasks else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>gmn-bench leaderboard</title><style>{_CSS}</style></head><body>"
            "<h1>gmn-bench leaderboard</h1>"
            f"<p class=\"rules\">{html.escape(RULES)}</p>{tables}{plot}"
            "<p>Submit with <code>gmn-bench submit</code>; see docs/leaderboard.md in the repository.</p>"
            f"<script>{_JS}</script></body></html>\n")


def render_pages(board: Board) -> dict[str, str]:
    """``file name -> text`` of the board's pages: ``README.md`` and ``index.html``."""
    return {"README.md": render_markdown(board), "index.html": render_html(board)}


def write_board(board: Board, out_dir: str | Path, ledger: str | Path | None = None) -> tuple[Path, Path]:
    """Write ``README.md`` and ``index.html`` of ``board`` into ``out_dir`` (created if missing), and
    its ledger to ``ledger`` if given; returns the two pages' paths. All files or none: each is
    rendered and written to a temporary file beside its place first, then all are renamed into place."""
    out_dir = Path(out_dir)
    files = {out_dir / name: text for name, text in render_pages(board).items()}
    if ledger is not None:
        files[Path(ledger)] = board.ledger.text()
    _write_all(files)
    return out_dir / "README.md", out_dir / "index.html"


def _write_all(files: dict[Path, str]) -> None:
    """Write every ``path -> text`` or, when any write fails, none (the old files stay as they were)."""
    staged: dict[Path, Path] = {}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp", delete=False) as f:
                staged[path] = Path(f.name)
                f.write(text)
        for path, temporary in staged.items():
            os.replace(temporary, path)
    finally:
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)
