"""Featurizing rows once: a metanet's ``featurize`` over rows, with an optional cache across tasks."""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from tqdm.auto import tqdm


def featurize_rows(metanet, rows: Iterable[Mapping], cache: dict | None = None, progress: bool = True,
                   desc: str = "featurize") -> list[Any]:
    """``[metanet.featurize(row) for row in rows]``; with ``cache`` (a dict the caller keeps across
    tasks of one zoo), a row already featurized by the same metanet and configuration (``out_dim``
    aside, which featurizing does not use) is taken from it. Callers must not modify the results."""
    cache = {} if cache is None else cache
    config = {k: v for k, v in metanet.config().items() if k != "out_dim"}
    key = (metanet.name, json.dumps(config, sort_keys=True))
    out = []
    for row in tqdm(rows, desc=desc, disable=not progress, leave=False):
        row_key = (*key, row["model_id"], row["epoch"])
        if row_key not in cache:
            cache[row_key] = metanet.featurize(row)
        out.append(cache[row_key])
    return out
