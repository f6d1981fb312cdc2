from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from gmn_bench.zoo.splits import assign_splits, id_splits, size_shift_splits, stable_unit


@given(st.sets(st.text(min_size=1), min_size=1, max_size=60), st.randoms())
def test_id_splits_depend_on_the_set_of_ids_only(ids, rng):
    shuffled = list(ids)
    rng.shuffle(shuffled)
    labels = id_splits(shuffled)
    assert labels == id_splits(sorted(ids)) and set(labels) == ids
    assert set(labels.values()) <= {"train", "validation", "test"}
    assert all(0.0 <= stable_unit(m) < 1.0 for m in ids)


def test_stable_hash_is_pinned():
    # changing the hash would silently reshuffle every published zoo's splits
    assert stable_unit("net-0") == 0.5936015267640676
    assert id_splits([f"net-{i}" for i in range(10)])["net-0"] == "validation"


def test_id_fractions_are_exact():
    for n in (10, 72, 1000):
        counts = Counter(id_splits([f"net-{i}" for i in range(n)]).values())
        assert counts["test"] == n - round(0.9 * n) and counts["validation"] == round(0.9 * n) - round(0.8 * n)


def test_size_shift_puts_largest_networks_in_test():
    labels = size_shift_splits({f"n{i}": i for i in range(100)}, test_quantile=0.8)
    assert {m for m, s in labels.items() if s == "test"} == {f"n{i}" for i in range(80, 100)}


def test_all_checkpoints_of_a_network_share_splits():
    rows = [{"model_id": f"{fam}-{i}", "family": fam, "n_params": 10 * i + len(fam), "epoch": e}
            for i, fam in enumerate(["mlp", "cnn", "resnet", "vit"] * 10) for e in (0, 1, 2)]
    assign_splits(rows)
    for column in ("split_id", "split_ood_family", "split_ood_size"):
        per_net = {}
        for row in rows:
            per_net.setdefault(row["model_id"], set()).add(row[column])
        assert all(len(v) == 1 for v in per_net.values())
    assert {r["split_ood_family"] for r in rows if r["family"] == "vit"} == {"test"}
    assert "test" not in {r["split_ood_family"] for r in rows if r["family"] != "vit"}


def test_single_size_zoo_has_no_size_shift_config():
    rows = [{"model_id": f"cnn-{i}", "family": "cnn", "n_params": 500, "epoch": 0} for i in range(20)]
    assign_splits(rows)
    assert "split_ood_size" not in rows[0] and "split_ood_family" not in rows[0] and "split_id" in rows[0]
