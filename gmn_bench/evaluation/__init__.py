"""Evaluating metanets on gmn-bench tasks.

* :func:`score` / :func:`predict`: the "any metanet" contract (a function of rows, or a fitted
  scikit-learn estimator with its featurizer);
* :func:`evaluate_metanet`: a registered metanet (:data:`gmn_bench.metanets.METANETS`) trained
  with the standard protocol over seeds -> a results dict; :func:`save_results` writes it with
  its plot; :func:`validate_results` checks a results file against ``results_schema.json``;
* :func:`featurize_splits` + :func:`train_seed`: one seed of the standard torch protocol, giving
  a :class:`FittedMetanet` that :func:`score` accepts;
* :func:`comparison_table`: metanets x task metrics as text.
"""
from .predictors import FittedMetanet, SklearnPredictor, predict, score
from .protocol import Objective, featurize_splits, train_seed
from .report import comparison_table, plot_results
from .results import (
                      SCHEMA_PATH,
                      ResultsFormatError,
                      SeedResult,
                      make_results,
                      results_schema,
                      split_metrics,
                      validate_results,
                      write_results,
)
from .run import (
                      DEFAULT_EPOCHS,
                      DEFAULT_SEEDS,
                      evaluate_metanet,
                      resolve_metanet,
                      save_results,
)

__all__ = ["DEFAULT_EPOCHS", "DEFAULT_SEEDS", "SCHEMA_PATH", "FittedMetanet", "Objective", "ResultsFormatError",
           "SeedResult", "SklearnPredictor", "comparison_table", "evaluate_metanet", "featurize_splits", "make_results",
           "plot_results", "predict", "resolve_metanet", "results_schema", "save_results", "score", "split_metrics",
           "train_seed", "validate_results", "write_results"]
