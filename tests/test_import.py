"""`gmn-bench import` end to end: five foreign architectures trained briefly here, their checkpoints
(safetensors and torch files) and a metrics table -> a zoo that graphs, metanets, tasks and the
leaderboard use unchanged."""
import csv
import json

import pytest
import torch
from safetensors.torch import save_file

import foreign_architectures as fa
from conftest import CIFAR
from gmn_bench import load_zoo, to_module
from gmn_bench.cli import main
from gmn_bench.evaluation import evaluate_metanet, save_results, validate_results
from gmn_bench.graphs import to_graph
from gmn_bench.leaderboard.score import build_board
from gmn_bench.leaderboard.submit import package_submission, write_submission
from gmn_bench.leaderboard.zoos import KnownZoo, known_zoos
from gmn_bench.nets import load_cifar10, train_network
from gmn_bench.tasks import INPUT_COLUMNS, HiddenColumnError, get_task
from gmn_bench.zoo import ZooFormatError
from gmn_bench.zoo.importing import import_zoo

HPARAMS = dict(optimizer="adam", weight_decay=0.0, label_smoothing=0.0, batch_size=50, epochs=1)
NETS_PER_FAMILY = 4


@pytest.fixture(scope="module")
def foreign_zoo(tmp_path_factory):
    """A checkpoint folder and a JSON-lines metrics table of 20 briefly trained foreign networks;
    odd networks are torch files (a wrapped state_dict) named by the table, even ones safetensors."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("foreign")
    data = load_cifar10(str(CIFAR), "train", limit=200), load_cifar10(str(CIFAR), "test", limit=200)
    lines, states = [], {}
    for f, family in enumerate(fa.ARCHITECTURES):
        for i in range(NETS_PER_FAMILY):
            model_id, seed = f"{family}-{i}", 10 * f + i
            hparams = {**HPARAMS, "learning_rate": 1e-3 * (1 + i), "init_seed": seed, "data_seed": seed,
                       "augmentation": "none"}
            for epoch, state, metrics in train_network(fa.spec(family, 2 + 2 * (i % 2)), hparams, *data, [0, 1]):
                line = {"id": model_id, "spec": {"family": family, "width": 2 + 2 * (i % 2)}, "epoch": epoch,
                        **{k: v for k, v in hparams.items() if k != "augmentation"}, **metrics}
                if i % 2:
                    path = root / "torch" / f"{model_id}-{epoch}.pt"
                    path.parent.mkdir(exist_ok=True)
                    torch.save({"state_dict": state, "epoch": epoch}, path)
                    line["checkpoint"] = f"torch/{model_id}-{epoch}.pt"
                else:
                    (root / model_id).mkdir(exist_ok=True)
                    save_file(state, str(root / model_id / f"epoch_{epoch}.safetensors"))
                states[model_id, epoch] = state
                lines.append(line)
    table = root / "metrics.jsonl"
    table.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return root, table, states


def test_imported_zoo_works_with_graphs_metanets_tasks_and_the_leaderboard(foreign_zoo, tmp_path):
    root, table, states = foreign_zoo
    out = tmp_path / "zoo"
    sizes = {m: sum(t.numel() for t in state.values()) for (m, _), state in states.items()}
    threshold = sorted(sizes.values())[len(sizes) // 2]
    assert main(["import", str(root), "--metrics", str(table), "--factory", "foreign_architectures:build",
                 "--out", str(out), "--default", "augmentation=none", "--held-out-family", "transformer",
                 "--ood-size-min-params", str(threshold), "--id-fractions", "0.5", "0.25", "0.25"]) == 0
    rows = load_zoo(out, config="default", split="train")
    assert len(rows) == 2 * 5 * NETS_PER_FAMILY
    assert set(rows["family"]) == set(fa.ARCHITECTURES)
    for row in rows:  # the stored network is the trained one, and its graph is the module's graph
        assert json.loads(row["arch"])["factory"] == "foreign_architectures:build"
        module = to_module(row)
        for name, tensor in states[row["model_id"], row["epoch"]].items():
            assert torch.equal(module.state_dict()[name], tensor), name
        g = to_graph(row)
        assert g.family == row["family"] and torch.equal(g.weight_values, to_graph(module).weight_values)
    ood = load_zoo(out, config="ood_family", split="test")
    assert set(ood["family"]) == {"transformer"}
    n_params = dict(zip(rows["model_id"], rows["n_params"]))
    held_out = set(load_zoo(out, config="ood_size", split="test")["model_id"])
    assert held_out == {m for m, n in n_params.items() if n >= threshold} and 0 < len(held_out) < len(n_params)

    results = []
    for task_name in ("accuracy-prediction", "accuracy-prediction-ood-family"):
        task = get_task(task_name, zoo=str(out))
        result = evaluate_metanet(task, "gmn", seeds=[0], epochs=1, lr_grid=[1e-3], progress=False)
        validate_results(result)
        results.append(save_results(result, task, tmp_path / "results"))
    task = get_task("accuracy-prediction", zoo=str(out))  # an imported zoo's rows go through the input view too
    assert task.rows("train").column_names == list(INPUT_COLUMNS)
    with pytest.raises(HiddenColumnError, match="'test_acc' is a label/recipe column"):
        task.rows("train")[0]["test_acc"]
    assert evaluate_metanet(task, "recipe", progress=False).metanet.track == "recipe"
    zoos = known_zoos(extra=(KnownZoo.at("imported", out),))
    package = package_submission([p for p in results if str(p).endswith(".json")], authors=["Test"], zoos=zoos)
    write_submission(package, tmp_path / "submissions")
    board = build_board(tmp_path / "submissions", zoos=zoos)
    assert not board.rejected
    assert [e.submission.manifest["metanet"]["name"] for e in board.tasks["accuracy-prediction"]] == ["gmn"]


def test_import_reads_csv_and_rejects_bad_lines_naming_them(foreign_zoo, tmp_path):
    root, table, _ = foreign_zoo
    lines = [json.loads(t) for t in table.read_text().splitlines()][:4]  # the first network, epochs 0 and 1, ...
    header = sorted({k for line in lines for k in line})

    def write_csv(rows):
        path = tmp_path / "metrics.csv"
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, header)
            writer.writeheader()
            writer.writerows({**r, "spec": "[" * 30_000 + "]" * 30_000 if r["spec"] == "@@DEEP@@"
                              else json.dumps(r["spec"])} for r in rows)
        return path

    good = import_zoo(root, write_csv(lines), tmp_path / "zoo", factory="foreign_architectures:build",
                      defaults={"augmentation": "none"})
    assert len(load_zoo(good, config="default", split="train")) == 4
    cases = [({"test_acc": 1.5}, r"line 2.*test_acc 1.5 is outside \[0, 1\]"),
             ({"epoch": 7}, "line 2.*no checkpoint"),
             ({"spec": {"family": "vgg", "width": 3}}, "line 2.*does not fit"),
             ({"learning_rate": "fast"}, "line 2.*learning_rate"),
             ({"learning_rate": "9" * 400}, "line 2.*learning_rate' is beyond the range of a float"),
             ({"learning_rate": "1e999"}, "line 2.*learning_rate' is not finite"),
             ({"init_seed": "9" * 5000}, "line 2.*init_seed"),
             ({"init_seed": "1e400"}, "line 2.*init_seed' must be an integer, got float inf"),
             ({"init_seed": "9223372036854775809"}, "line 2.*init_seed 9223372036854775809 does not fit int64"),
             ({"spec": "@@DEEP@@"}, "line 2.*column 'spec' is not JSON"),
             ({"optimizer": "x" * 200_000}, "is not a CSV table the reader takes")]
    for change, message in cases:
        bad = [lines[0], {**lines[1], **change}]
        with pytest.raises(ZooFormatError, match=message):
            import_zoo(root, write_csv(bad), tmp_path / "bad", factory="foreign_architectures:build",
                       defaults={"augmentation": "none"})
    with pytest.raises(ZooFormatError, match="missing columns \\['augmentation'\\]"):
        import_zoo(root, write_csv(lines), tmp_path / "bad", factory="foreign_architectures:build")
    with pytest.raises(ZooFormatError, match="pass the model factory"):
        import_zoo(root, write_csv(lines), tmp_path / "bad", defaults={"augmentation": "none"})
    with pytest.raises(ZooFormatError, match="not decorated"):
        import_zoo(root, write_csv(lines), tmp_path / "bad", factory="foreign_architectures:spec",
                   defaults={"augmentation": "none"})


def test_torch_checkpoints_are_loaded_without_pickle(foreign_zoo, tmp_path):
    _, table, _ = foreign_zoo
    line = json.loads(table.read_text().splitlines()[0])
    hostile = tmp_path / "ckpt"
    (hostile / line["id"]).mkdir(parents=True)
    torch.save({"state_dict": {"w": torch.zeros(1)}, "hook": print}, hostile / line["id"] / "epoch_0.pt")
    (tmp_path / "t.jsonl").write_text(json.dumps(line) + "\n")
    with pytest.raises(ZooFormatError, match="cannot be read"):
        import_zoo(hostile, tmp_path / "t.jsonl", tmp_path / "zoo", factory="foreign_architectures:build",
                   defaults={"augmentation": "none"})
