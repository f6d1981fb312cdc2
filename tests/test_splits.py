from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmn_bench.zoo.splits import assign_splits, id_split, size_split, stable_unit

SPLIT_COLUMNS = ("split_id", "split_ood_family", "split_ood_size")
FAMILIES = ("mlp", "cnn", "resnet", "vit")


def _rows(n: int, epochs=(0, 1, 2)) -> list[dict]:
    return [{"model_id": f"{fam}-{i}", "family": fam, "n_params": 1000 * i + len(fam), "epoch": e}
            for i, fam in enumerate(FAMILIES * (n // 4)) for e in epochs]


def _labels(rows: list[dict]) -> dict[str, tuple]:
    return {r["model_id"]: tuple(r.get(c) for c in SPLIT_COLUMNS) for r in rows}


def test_stable_hash_is_pinned():
    # changing the hash (or the thresholds) would silently reshuffle every published zoo's splits
    assert stable_unit("net-0") == 0.5936015267640676
    assert {i: id_split(f"net-{i}") for i in range(20) if id_split(f"net-{i}") != "train"} == {
        9: "validation", 16: "validation", 17: "validation", 19: "test"}


@given(st.lists(st.text(min_size=1), min_size=1, max_size=40, unique=True), st.integers(1, 39), st.randoms())
def test_a_networks_labels_do_not_depend_on_the_rest_of_the_zoo(ids, k, rng):
    rows = [{"model_id": m, "family": FAMILIES[i % 4], "n_params": 100 + 37 * i, "epoch": 0} for i, m in enumerate(ids)]
    whole = assign_splits([dict(r) for r in rows], "vit", 1000)
    labels = {r["model_id"]: r for r in whole}
    for row in assign_splits([dict(r) for r in rng.sample(rows, min(k, len(rows)))], "vit", 1000):
        # a zoo without the held-out family has no ood_family config; every label it has is the whole zoo's
        assert {c: row[c] for c in SPLIT_COLUMNS if c in row} == {c: labels[row["model_id"]][c] for c in SPLIT_COLUMNS
                                                                 if c in row}
        assert "split_id" in row and "split_ood_size" in row


def test_id_shares_are_the_fractions_in_expectation():
    counts = Counter(id_split(f"net-{i}") for i in range(20_000))
    assert abs(counts["train"] / 20_000 - 0.8) < 0.01 and abs(counts["test"] / 20_000 - 0.1) < 0.01
    shares = (("train", 0.7), ("validation", 0.12), ("test", 0.18))
    assert abs(Counter(id_split(f"net-{i}", shares) for i in range(20_000))["test"] / 20_000 - 0.18) < 0.01


def test_id_split_is_a_threshold_of_the_hash():
    for i in range(200):
        unit = stable_unit(f"net-{i}")
        assert id_split(f"net-{i}") == ("train" if unit < 0.8 else "validation" if unit < 0.9 else "test")


def test_size_split_holds_out_every_network_at_or_above_the_threshold():
    labels = {n: size_split(f"n{n}", n, 80) for n in range(100)}
    assert {n for n, s in labels.items() if s == "test"} == set(range(80, 100))
    assert {labels[n] for n in range(80)} == {"train", "validation"}


def test_all_checkpoints_of_a_network_share_splits():
    rows = assign_splits(_rows(40), ood_size_min_params=30_000)
    for column in SPLIT_COLUMNS:
        per_net = {}
        for row in rows:
            per_net.setdefault(row["model_id"], set()).add(row[column])
        assert all(len(v) == 1 for v in per_net.values())
    assert {r["split_ood_family"] for r in rows if r["family"] == "vit"} == {"test"}
    assert "test" not in {r["split_ood_family"] for r in rows if r["family"] != "vit"}
    assert {r["split_ood_size"] for r in rows if r["n_params"] >= 30_000} == {"test"}


def test_no_size_config_without_a_threshold_and_no_family_config_without_the_family():
    rows = assign_splits([{"model_id": f"cnn-{i}", "family": "cnn", "n_params": 500 * i, "epoch": 0} for i in range(20)])
    assert "split_ood_size" not in rows[0] and "split_ood_family" not in rows[0] and "split_id" in rows[0]


def test_bad_id_shares_are_an_error():
    with pytest.raises(ValueError, match="id_fractions"):
        assign_splits(_rows(4), id_fractions=(("train", 0.8), ("test", 0.3)))


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "1000"])
def test_a_bad_size_threshold_is_an_error(bad):
    with pytest.raises(ValueError, match="ood_size_min_params"):
        assign_splits(_rows(4), ood_size_min_params=bad)
