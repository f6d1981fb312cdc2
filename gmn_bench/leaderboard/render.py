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
         "only). Exactly equal scores share a rank; tied rows are listed in the order the board first saw them "
         "(the Submitted date is the board's own record), then by metanet name. A copy of an earlier entry's "
         "predictions is rejected. Other metrics are shown, not ranked: regression R² and RMSE, classification "
         "macro-F1.")


def _metric_columns(entries: list[Entry]) -> list[str]:
    first = entries[0].score
    return [first.rank_metric, *(m for m in first.mean if m != first.rank_metric)]


def _headers(metrics: list[str]) -> list[str]:
    return ["Rank", "Metanet", f"{metrics[0]} (mean ± std)", _CI, "vs leader", "over trivial", *metrics[1:], "n",
            "Seeds", "Params", "Authors", "Submitted", "Paper", "Notes"]


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


def _notes(entry: Entry, stats: EntryStatistics) -> str:
    notes = ["reference"] if entry.record.reference else []
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
            cells = [str(e.rank), markdown_link(meta["metanet"]["name"], meta["metanet"]["code"]),
                     _mean_std(e, metrics[0]), _interval(stats), _vs_leader(stats), _margin(stats),
                     *(_mean_std(e, m) for m in metrics[1:]), str(e.score.n_test), str(len(e.score.seeds)),
                     _params(e.score.n_params), markdown(", ".join(meta["authors"])), e.record.first_seen[:10],
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
            intervals = [board.statistics[task][e.submission.id].interval for e in entries][::-1]
            errors = [[v - low for v, (low, _) in zip(values, intervals)],
                      [high - v for v, (_, high) in zip(values, intervals)]]
            colors = ["#8c8c8c" if e.record.reference else "#3b6fb6" for e in entries][::-1]
            ax.barh(range(len(entries)), values, xerr=errors, color=colors, capsize=3)
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
        cells = [_cell(str(e.rank), e.rank, numeric=True),
                 _cell(_link(meta["metanet"]["name"], meta["metanet"]["code"]), meta["metanet"]["name"], raw=True),
                 _cell(_mean_std(e, metrics[0]), repr(e.value), numeric=True),
                 _cell(_interval(stats), repr(stats.interval[0]), numeric=True),
                 _cell(_vs_leader(stats), repr(stats.vs_leader.difference if stats.vs_leader else 0.0), numeric=True),
                 _cell(_margin(stats), repr(stats.margin.difference) if stats.margin else "", numeric=True),
                 *(_cell(_mean_std(e, m), repr(e.score.mean[m]), numeric=True) for m in metrics[1:]),
                 _cell(str(e.score.n_test), e.score.n_test, numeric=True),
                 _cell(str(len(e.score.seeds)), len(e.score.seeds), numeric=True),
                 _cell(_params(e.score.n_params), e.score.n_params or "", numeric=True),
                 _cell(", ".join(meta["authors"]), ", ".join(meta["authors"])),
                 _cell(e.record.first_seen[:10], e.record.first_seen),
                 _cell(_link("paper", meta["metanet"]["paper"]) if meta["metanet"]["paper"] else "",
                       meta["metanet"]["paper"] or "", raw=True),
                 _cell(_notes(e, stats), _notes(e, stats))]
        css = ' class="reference"' if e.record.reference else ""
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


def write_board(board: Board, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``README.md`` and ``index.html`` of ``board`` into ``out_dir`` (created if missing); returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    readme, page = out_dir / "README.md", out_dir / "index.html"
    readme.write_text(render_markdown(board), encoding="utf-8")
    page.write_text(render_html(board), encoding="utf-8")
    return readme, page
