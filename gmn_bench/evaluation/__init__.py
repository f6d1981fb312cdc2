"""Evaluating metanets on gmn-bench tasks.

* :func:`predict`: the "any metanet" contract (a function of rows, or a fitted scikit-learn
  estimator with its featurizer) -> predictions that :meth:`Task.evaluate <gmn_bench.tasks.Task.evaluate>` scores;
* :func:`evaluate_metanet`: a :class:`~gmn_bench.metanets.Metanet` (registered name or class)
  trained with the standard protocol over seeds and a learning-rate grid -> :class:`Results`;
  :func:`save_results` writes it with its plot;
* :class:`Results`: the typed results file (``save``/``load``); :func:`validate_results` checks
  a file of either format against its one JSON Schema (:func:`results_schema`);
* :func:`featurize_splits` + :func:`train_seed`: one seed of the standard torch protocol, giving
  a :class:`FittedMetanet` (a predictor; ``save``/``load``);
* :func:`run_parameter_prediction`: the parameter-prediction task with the reference GHN;
  :func:`summarize_networks`: accuracies per weight source and test split (n, mean, std, interval);
* :func:`comparison_table`, :func:`parameter_prediction_table`, :func:`anchors_table`, :func:`plot_results`: views
  stating n and the uncertainty (:mod:`.stats`: the one ``std``, bootstrap intervals, paired tests).
"""
from .objective import Objective
from .parameter_prediction import run_parameter_prediction, summarize_networks
from .predictors import FittedMetanet, SklearnPredictor, predict
from .protocol import featurize_splits, train_seed
from .report import anchors_table, comparison_table, parameter_prediction_table, plot_results
from .results import (
    PARAMETER_PREDICTION_SCHEMA_ID,
    RESULTS_SCHEMA_ID,
    MetanetInfo,
    Results,
    ResultsFormatError,
    SeedResult,
    Summary,
    Tuning,
    ZooRef,
    results_schema,
    validate_results,
)
from .run import DEFAULT_SEEDS, LR_GRID, evaluate_metanet, planned_runs, resolve_metanet, save_results

__all__ = ["DEFAULT_SEEDS", "LR_GRID", "PARAMETER_PREDICTION_SCHEMA_ID", "RESULTS_SCHEMA_ID", "FittedMetanet",
           "MetanetInfo", "Objective", "Results", "ResultsFormatError", "SeedResult", "SklearnPredictor", "Summary",
           "Tuning", "ZooRef", "anchors_table", "comparison_table", "evaluate_metanet", "featurize_splits", "parameter_prediction_table",
           "planned_runs", "plot_results", "predict", "resolve_metanet", "results_schema", "run_parameter_prediction", "save_results",
           "summarize_networks", "train_seed", "validate_results"]
