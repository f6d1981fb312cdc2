from gmn_bench.cli import main
from gmn_bench import load_zoo


def test_demo_writes_a_loadable_zoo(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "zoo")]) == 0
    out = capsys.readouterr().out
    assert "datasets.load_dataset reads it as {'test': 2, 'train': 2}" in out
    assert all(f" {family} " in out for family in ("mlp", "cnn", "resnet", "vit"))
    assert sorted(load_zoo(tmp_path / "zoo", split="train")["family"]) == ["cnn", "mlp", "resnet", "vit"]
    assert main(["info", str(tmp_path / "zoo"), "--config", "id"]) == 0
    assert "id/train: 2 rows, 2 networks" in capsys.readouterr().out
