"""The OGB-style Evaluator: pure (no zoo), the documented input forms, clear errors for anything else."""
import doctest

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gmn_bench.tasks import TASKS, Evaluator, TaskInputError, get_task, regression_metrics
from gmn_bench.tasks import evaluator as evaluator_module
from conftest import TEST_ZOO

FORMS = {"list": list, "ndarray": np.array, "tensor": lambda v: torch.tensor(v, dtype=torch.float64),
         "series": pd.Series, "column": lambda v: np.array(v)[:, None]}


def test_docstring_example_runs():
    assert doctest.testmod(evaluator_module).failed == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)), min_size=2, max_size=30),
       st.sampled_from(sorted(FORMS)), st.sampled_from(sorted(FORMS)))
def test_every_documented_form_gives_the_same_metrics(pairs, true_form, pred_form):
    y_true, y_pred = [a for a, _ in pairs], [b for _, b in pairs]
    got = Evaluator("accuracy-prediction").eval({"y_true": FORMS[true_form](y_true), "y_pred": FORMS[pred_form](y_pred)})
    np.testing.assert_equal(got, regression_metrics(y_true, y_pred))


def test_every_task_is_covered_and_documents_its_formats():
    for name, definition in TASKS.items():
        evaluator = Evaluator(name)
        assert evaluator.task_type == definition.task_type
        assert "y_true" in evaluator.expected_input_format and evaluator.rank_metric in evaluator.expected_output_format
        assert all(f"'{m}': float" in evaluator.expected_output_format for m in evaluator.metrics)


def test_classification_takes_string_or_integer_labels():
    evaluator = Evaluator("hyperparameter-prediction-optimizer")
    by_name = evaluator.eval({"y_true": ["adam", "sgd", "sgd"], "y_pred": np.array(["adam", "adam", "sgd"])})
    by_index = evaluator.eval({"y_true": torch.tensor([0, 2, 2]), "y_pred": [0, 0, 2]})
    assert by_name == by_index == {"accuracy": pytest.approx(2 / 3), "macro_f1": pytest.approx(2 / 3)}


def test_task_evaluate_is_the_evaluator_on_the_aligned_truth():
    task = get_task("accuracy-prediction", zoo=TEST_ZOO)
    truth = task.targets("test")
    guesses = {m: 0.1 + 0.01 * i for i, m in enumerate(reversed(truth))}
    assert task.evaluate(guesses) == Evaluator(task.name).eval(
        {"y_true": pd.Series(truth), "y_pred": pd.Series(guesses).loc[list(truth)]})


@pytest.mark.parametrize("task, input_dict, message", [
    ("accuracy-prediction", {"y_true": [0.1, 0.2]}, "eval takes {'y_true': ..., 'y_pred': ...}, got ['y_true']"),
    ("accuracy-prediction", [[0.1], [0.2]], "got list"),
    ("accuracy-prediction", {"y_true": {"a": 0.1}, "y_pred": {"a": 0.1}}, "y_true must be a list, a numpy array"),
    ("accuracy-prediction", {"y_true": [0.1, 0.2], "y_pred": [0.1]}, "y_true has 2 values but y_pred has 1"),
    ("accuracy-prediction", {"y_true": [], "y_pred": []}, "shape [n] or [n, 1], n >= 1), got shape (0,)"),
    ("accuracy-prediction", {"y_true": np.zeros((2, 2)), "y_pred": np.zeros((2, 2))}, "got shape (2, 2)"),
    ("accuracy-prediction", {"y_true": [0.1, 0.2], "y_pred": [0.1, float("nan")]}, "y_pred[1] is not finite"),
    ("accuracy-prediction", {"y_true": [0.1, 0.2], "y_pred": [0.1, "0.2"]}, "y_pred[1] must be a real number, got str"),
    ("accuracy-prediction", {"y_true": [0.1, 0.2], "y_pred": [True, 0.2]}, "y_pred[0] must be a real number, got bool"),
    ("accuracy-prediction", {"y_true": pd.Series([0.1, 0.2], index=["a", "b"]),
                             "y_pred": pd.Series([0.1, 0.2], index=["b", "a"])}, "different indexes"),
    ("hyperparameter-prediction-optimizer", {"y_true": ["adam"], "y_pred": [0]}, "y_true holds str labels but y_pred int"),
    ("hyperparameter-prediction-optimizer", {"y_true": ["adam"], "y_pred": [0.5]}, "all strings or all integers; found 0.5"),
])
def test_anything_else_is_rejected_with_a_clear_message(task, input_dict, message):
    _refused(task, input_dict, message)


def _refused(task, input_dict, message):
    with pytest.raises(TaskInputError) as err:
        Evaluator(task).eval(input_dict)
    assert message in str(err.value) and str(err.value).startswith(task)


def test_unknown_tasks_and_parameter_prediction_are_named():
    with pytest.raises(TaskInputError, match="unknown task 'accuracy'"):
        Evaluator("accuracy")
    with pytest.raises(TaskInputError, match="ParameterPredictionTask"):
        Evaluator("parameter-prediction")


@pytest.mark.parametrize("values, message", [
    ([10**400, 0.2], "y_true[0] is beyond the range of a float"),
    (np.array([10**400, 0.2], dtype=object), "y_true[0] is beyond the range of a float"),
    ([2**53 + 1, 0.2], "y_true[0] cannot be represented exactly as a float"),
    ([np.longdouble("1e4000"), 0.2], "y_true[0] is beyond the range of a float"),
    ([complex(0.1, 0), 0.2], "y_true[0] must be a real number, got complex"),
    (np.array([0.1, 0.2], dtype=np.complex64), "y_true[0] must be a real number, got complex"),
    (torch.tensor([0.1, 0.2], dtype=torch.complex64), "y_true[0] must be a real number, got complex"),
    ([np.bool_(True), 0.2], "y_true[0] must be a real number, got bool"),
    ([float("nan"), 0.2], "y_true[0] is not finite"),
    (np.array([np.float16("inf"), 0.2]), "y_true[0] is not finite"),
    ([None, 0.2], "y_true[0] must be a real number, got NoneType"),
])
def test_numbers_it_cannot_hold_exactly_are_refused(values, message):
    _refused("accuracy-prediction", {"y_true": values, "y_pred": [0.1, 0.3]}, message)


@pytest.mark.parametrize("convert", [
    lambda v: torch.tensor(v, dtype=torch.bfloat16), lambda v: torch.tensor(v, dtype=torch.float16),
    lambda v: np.array(v, dtype=np.float16), lambda v: torch.tensor(v, dtype=torch.float64)[:, None],
    lambda v: [torch.tensor(x, dtype=torch.bfloat16) for x in v], lambda v: np.array(v, dtype=np.float32).astype(object),
])
def test_low_and_high_precision_floats_are_read_exactly(convert):
    y_true, y_pred = [0.125, 0.5, 0.25, 0.75], [0.25, 0.5, 0.125, 1.0]  # exact in bfloat16
    expected = Evaluator("accuracy-prediction").eval({"y_true": y_true, "y_pred": y_pred})
    assert Evaluator("accuracy-prediction").eval({"y_true": convert(y_true), "y_pred": convert(y_pred)}) == expected


def test_integer_class_labels_of_any_integer_dtype_are_labels():
    evaluator = Evaluator("hyperparameter-prediction-optimizer")
    expected = evaluator.eval({"y_true": [0, 2, 2], "y_pred": [0, 0, 2]})
    for dtype in (np.uint8, np.int16, np.int64):
        assert evaluator.eval({"y_true": np.array([0, 2, 2], dtype=dtype), "y_pred": [0, 0, 2]}) == expected
    assert evaluator.eval({"y_true": torch.tensor([0, 2, 2], dtype=torch.uint8), "y_pred": [0, 0, 2]}) == expected
