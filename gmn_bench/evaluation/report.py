"""Human-readable views of results, each stating n (test networks) and the uncertainty:

* :func:`comparison_table`: per task, one line per metanet, one column per metric (rank metric
  first): ``mean ± std [95% CI]``: mean and sample std over seeds (``(1 run)`` for a
  deterministic metanet), and the bootstrap interval over test networks; given the tasks, also
  each metanet's paired difference to the best of its track on the same test networks (≈:
  indistinguishable; a ``recipe``-track metanet also reads the training recipe, so it is compared
  with its own track only, as on the board);
* :func:`parameter_prediction_table`: one line per weight source, one column per test split;
* :func:`anchors_table`: what predicted weights are worth (epochs saved, ranking tau, fine-tuning gain) per split;
* :func:`plot_results`: predicted vs true test values of a results file, n in the title.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

from ..tasks import RANK_METRIC, Task
from ..tasks.parameter_prediction import TEST_SPLITS, WEIGHT_SOURCES
from .results import Results
from .stats import CONFIDENCE, indistinguishable, paired_difference

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

_CI = f"{CONFIDENCE:.0%} CI"


def format_summary(mean: float, std: float | None, ci_low: float, ci_high: float, digits: int = 3) -> str:
    """``mean ± std [low, high]``, or ``mean (1 run) [low, high]`` when there is no std."""
    spread = f"± {std:.{digits}f}" if std is not None else "(1 run)"
    return f"{mean:.{digits}f} {spread} [{ci_low:.{digits}f}, {ci_high:.{digits}f}]"


def _text_table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    text = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [header, *lines]]
    return [text[0], "  ".join("-" * w for w in widths), *text[1:]]


def _runs(results: Results) -> str:
    return "1 (deterministic)" if results.deterministic else str(len(results.seeds))


def _learning_rate(results: Results) -> str:
    return f"{results.tuning.chosen:g}" if results.tuning is not None else "-"


def _vs_best(results: Results, best: Results, truth: Mapping[str, Any] | None) -> str:
    """``results``' rank score minus ``best``'s with the paired interval over the same test networks."""
    if results is best:
        return "best"
    if truth is None or any(set(r.per_seed[0].predictions) != set(truth) for r in (results, best)):
        return "-"
    rank = RANK_METRIC[results.task_type]
    aligned = [[[s.predictions[m] for m in truth] for s in r.per_seed] for r in (results, best)]
    difference, low, high = paired_difference(rank, list(truth.values()), *aligned)
    return f"{difference:+.3f} [{low:+.3f}, {high:+.3f}]" + (" ≈" if indistinguishable(low, high) else "")


def _block(task: str, results: Sequence[Results], truth: Mapping[str, Any] | None) -> list[str]:
    first = results[0]
    rank = RANK_METRIC[first.task_type]
    metrics = [rank, *(m for m in first.metrics if m != rank)]
    best = {}
    for r in results:
        if r.metanet.track not in best or r.metrics[rank].mean > best[r.metanet.track].metrics[rank].mean:
            best[r.metanet.track] = r
    title = f"{task}: mean ± std over seeds [{_CI} over the n test networks]"
    header = ["metanet", "track", "n", "seeds", "lr", *metrics[:1], "vs best", *metrics[1:]]
    lines = [[r.metanet.name, r.metanet.track, str(r.n_test), _runs(r), _learning_rate(r),
              format_summary(**vars(r.metrics[rank])), _vs_best(r, best[r.metanet.track], truth),
              *(format_summary(**vars(r.metrics[m])) for m in metrics[1:])]
             for r in results]
    note = (f"vs best: {rank} minus the best entry's of the same track, paired {_CI} on the same test networks "
            "(≈: statistically indistinguishable); track weights: reads the network only; recipe: also its "
            "recorded training recipe")
    return [title, *_text_table(header, lines), note]


def comparison_table(results: Sequence[Results], tasks: Sequence[Task] = ()) -> str:
    """Plain text: a block per task (first-seen order), lines metanets, columns the task's metrics
    and, for the ``tasks`` given (their test truth), the paired difference to the best entry."""
    truths = {t.name: t.targets("test") for t in tasks}
    names = list(dict.fromkeys(r.task for r in results))
    return "\n\n".join("\n".join(_block(t, [r for r in results if r.task == t], truths.get(t))) for t in names)


def parameter_prediction_table(metrics: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """Accuracy per weight source (lines) and test split (columns), ``mean ± std [95% CI]`` over
    the split's networks and, in braces, how many networks predict one class for every image;
    n as networks / architectures in the header, ``*`` on intervals that resample architectures."""
    first = next(iter(metrics.values()))
    header = ["weights", *(f"{s} (n = {first[s]['n']} networks / {first[s]['n_architectures']} architectures)"
                           for s in TEST_SPLITS)]
    lines = [[source, *(format_summary(**{k: metrics[source][s][k] for k in ("mean", "std", "ci_low", "ci_high")})
                        + ("*" if metrics[source][s]["interval"] == "architectures" else "")
                        + f" {{{metrics[source][s]['single_class']} single-class}}"
                        for s in TEST_SPLITS)]
             for source in WEIGHT_SOURCES if source in metrics]
    return "\n".join(_text_table(header, lines))


def anchors_table(anchors: Mapping[str, Mapping[str, Any]]) -> str:
    """The ``anchors`` of a parameter-prediction results file (one column per test split): epochs of
    the sampled networks' own training, and of full-data training, that predicted weights are worth
    (mean [95% CI over architectures], median, n, and how many beat every epoch: then the mean is a
    lower bound), the architecture-ranking Kendall tau [95% CI over architectures] and the paired
    fine-tuning gain over random initialisation."""
    def saved(a: Mapping[str, Any] | None) -> str:
        if a is None:
            return "-"
        return (f"{a['mean']:.2f} [{a['ci_low']:.2f}, {a['ci_high']:.2f}] median {a['median']:.2f}"
                f" (n = {a['n']}, {a['not_reached']} beyond training)")

    def tau(a: Mapping[str, Any]) -> str:
        if a["tau"] is None:
            return f"- ({a['n_architectures']} architecture)"
        return f"{a['tau']:.2f} [{a['ci_low']:.2f}, {a['ci_high']:.2f}] ({a['n_architectures']} architectures)"

    def gain(a: Mapping[str, Any] | None) -> str:
        return "-" if a is None else f"{a['mean']:+.3f} [{a['ci_low']:+.3f}, {a['ci_high']:+.3f}]"

    splits = [s for s in TEST_SPLITS if s in anchors]
    lines = [["epochs saved", *(saved(anchors[s].get("epochs_saved")) for s in splits)],
             ["full-data epochs saved", *(saved(anchors[s].get("full_data_epochs_saved")) for s in splits)],
             ["ranking tau", *(tau(anchors[s]["ranking_tau"]) for s in splits)]]
    if any("finetune_gain" in anchors[s] for s in splits):
        lines.append(["fine-tune gain", *(gain(anchors[s].get("finetune_gain")) for s in splits)])
    return "\n".join(_text_table(["predicted weights", *splits], lines))


def _title(results: Results) -> str:
    rank = RANK_METRIC[results.task_type]
    runs = "1 run" if len(results.seeds) == 1 else f"{len(results.seeds)} seeds"
    name = results.metanet.name.replace("$", r"\$")  # a submitted name is text, never mathtext
    return (f"{name} on {results.task} (n = {results.n_test} test networks, {runs})\n"
            f"{rank} {format_summary(**vars(results.metrics[rank]))} ({_CI})")


def plot_results(results: Results, truth: Mapping[str, Any], path: str | Path) -> Path:
    """Save predicted vs true test values (every seed; a confusion matrix for classification) to ``path``."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    if results.task_type == "regression":
        for r in results.per_seed:
            ids = sorted(r.predictions)
            ax.scatter([truth[m] for m in ids], [r.predictions[m] for m in ids], s=18, alpha=0.7,
                       label=f"seed {r.seed}")
        lo = min(min(truth.values()), *(min(r.predictions.values()) for r in results.per_seed))
        hi = max(max(truth.values()), *(max(r.predictions.values()) for r in results.per_seed))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
        ax.set_xlabel(f"true {results.target}")
        ax.set_ylabel(f"predicted {results.target}")
        ax.legend(fontsize=8)
    else:
        classes = sorted(set(truth.values()) | {v for r in results.per_seed for v in r.predictions.values()})
        counts = Counter((truth[m], v) for r in results.per_seed for m, v in r.predictions.items())
        grid = [[counts[(t, p)] for p in classes] for t in classes]
        ax.imshow(grid, cmap="Blues")
        top = max(max(line) for line in grid)
        for i, line in enumerate(grid):
            for j, n in enumerate(line):
                ax.text(j, i, str(n), ha="center", va="center", color="white" if n > top / 2 else "black")
        ax.set_xticks(range(len(classes)), classes)
        ax.set_yticks(range(len(classes)), classes)
        ax.set_xlabel("predicted (counts over all seeds)")
        ax.set_ylabel("true")
    ax.set_title(_title(results), fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
