"""Fuzzing the zoo's entry points: any edit of good rows is either refused with a ZooFormatError that
names the row or column, or written, loaded back unchanged and rebuilt; each case runs under a time
and memory limit."""
import math
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from conftest import make_rows
from gmn_bench import ZooFormatError, load_zoo, to_module, write_zoo
from gmn_bench.zoo.schema import COLUMNS
from limits import limited

_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=0, max_value=1),
    st.text(max_size=12), st.binary(max_size=12), st.lists(st.integers(), max_size=3),
    st.sampled_from(["train", "test", "train\n", "adam", "mlp", "cnn", "vit", "{}", "../x", "a|b", "x\u202e"]),
)
_COLUMNS = st.sampled_from([*COLUMNS, "split_id", "split_ood", "split_default", "colour"])


def _weights_edit(data, weights: bytes) -> bytes:
    state = st_load(weights)
    name = data.draw(st.sampled_from(sorted(state)))
    edit = data.draw(st.sampled_from(["nan", "int", "drop", "reshape", "truncate", "half"]))
    if edit == "truncate":
        return weights[: data.draw(st.integers(0, len(weights) - 1))]
    if edit == "nan":
        if state[name].is_floating_point():  # an integer tensor (num_batches_tracked) has no NaN: left as it is
            state[name].view(-1)[0] = math.nan
    elif edit == "int":
        state[name] = state[name].long()
    elif edit == "drop":
        del state[name]
    elif edit == "reshape":
        state[name] = state[name].reshape(-1)
    else:
        state[name] = state[name].half() if state[name].is_floating_point() else state[name]
    return st_save(state)


def _run(rows: list[dict]) -> tuple[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            folder = write_zoo(rows, Path(tmp) / "zoo")
        except ZooFormatError as e:
            return "refused", str(e)
        loaded = load_zoo(folder, split="train")
        for row in loaded:
            to_module(row)
        return "accepted", {(r["model_id"], r["epoch"]): r for r in loaded}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_edit_of_good_rows_is_refused_naming_it_or_round_trips(data):
    rows = make_rows()
    index = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(_COLUMNS)
    if column == "weights" and data.draw(st.booleans()):
        rows[index]["weights"] = _weights_edit(data, rows[index]["weights"])
    elif data.draw(st.booleans()) or column not in rows[index]:
        rows[index][column] = data.draw(_VALUES)
    else:
        del rows[index][column]
    with limited(seconds=60, memory_bytes=2 * 2**30), mock.patch("gmn_bench.zoo.card.write_card_plots", return_value=[]):
        outcome, detail = _run(rows)
    event(outcome)
    if outcome == "refused":
        assert "row model_id=" in detail or column in detail, detail
    else:
        back = detail[(rows[index]["model_id"], rows[index]["epoch"])]
        assert column not in rows[index] or back.get(column) == rows[index][column]
