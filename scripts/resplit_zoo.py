"""Give a zoo folder the split labels of its recipe's current rules and write it again, in place.

    python scripts/resplit_zoo.py ZOO_FOLDER builders/<recipe> --note "what changed and why"

Reads every row, recomputes ``split_*`` with :func:`gmn_bench.zoo.assign_splits` from the recipe's
``held_out_family``, ``ood_size_min_params`` and ``id_fractions``, records ``precision = float32``
on rows that have none (every zoo built before bfloat16 builds existed trained in float32), and
rewrites the folder with :func:`gmn_bench.zoo.io.write_zoo`, keeping the card's description and
adding ``--note`` to it. Everything but the split labels and a missing precision must come back
unchanged (weights byte for byte): the script checks that before it replaces the folder.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from gmn_bench import load_zoo
from gmn_bench.build.recipes import load_recipe
from gmn_bench.zoo import assign_splits
from gmn_bench.zoo.io import write_zoo

_GENERATED_HEADINGS = ("## Reading it", "## Summary")  # the first sections write_card adds after the description


def _description(folder: Path, name: str) -> str:
    """The description the card was written with: its body between the title and the first generated section."""
    body = (folder / "README.md").read_text().split("\n---\n", 1)[1]
    start = body.index(f"# {name}\n") + len(f"# {name}\n")
    end = min(i for i in (body.find(h, start) for h in _GENERATED_HEADINGS) if i >= 0)
    return body[start:end].strip()


def _rows(folder: Path) -> list[dict]:
    return [dict(r) for r in load_zoo(folder, config="default", split="train")]


def _unchanged(row: dict) -> dict:
    """What a rewrite must keep: every value but the split labels and the precision (a column an older
    zoo lacks comes back null)."""
    return {k: v for k, v in row.items() if not k.startswith("split_") and k != "precision" and v is not None}


def resplit(folder: Path, recipe_path: Path, note: str) -> dict[str, int]:
    """Rewrite ``folder`` with the recipe's split labels (see the module docstring); returns how many
    networks changed label per split column."""
    recipe = load_recipe(recipe_path)
    before = _rows(folder)
    rows = [{**{k: v for k, v in r.items() if not k.startswith("split_")},
             "precision": r.get("precision") or "float32"} for r in before]
    assign_splits(rows, recipe.held_out_family, recipe.ood_size_min_params, recipe.id_fractions)
    description = f"{_description(folder, recipe.name)}\n\n{note}"
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        written = write_zoo(rows, Path(tmp) / folder.name, name=recipe.name, description=description)
        after = {(r["model_id"], r["epoch"]): r for r in _rows(written)}
        if len(after) != len(before) or any(_unchanged(after[r["model_id"], r["epoch"]]) != _unchanged(r) for r in before):
            raise RuntimeError(f"{folder}: rewriting changed more than the split labels; left as it was")
        shutil.rmtree(folder)
        shutil.move(str(written), str(folder))
    old = {r["model_id"]: r for r in before}
    return {c: sum(old[m].get(c) != r[c] for m, r in {r["model_id"]: r for r in rows}.items())
            for c in sorted(k for k in rows[0] if k.startswith("split_"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("zoo", type=Path, help="zoo folder to rewrite in place")
    parser.add_argument("recipe", type=Path, help="its recipe (builders/<name> or a recipe.toml)")
    parser.add_argument("--note", required=True, help="paragraph added to the card: what changed and why")
    args = parser.parse_args()
    changed = resplit(args.zoo, args.recipe, args.note)
    print(f"rewrote {args.zoo}; networks whose label changed: {changed}")


if __name__ == "__main__":
    main()
