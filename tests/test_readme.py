"""The README's Python examples, run in order as one session on the test zoo, so they cannot go stale."""
import re
from pathlib import Path

import pytest
import torch

from gmn_bench.leaderboard import zoos as board_zoos
from conftest import CIFAR, TEST_ZOO

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
SETUP = 'ZOO, CIFAR = DEFAULT_ZOO, "uoft-cs/cifar10"'
NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")
EXAMPLE_OUTPUT = "prints, on the embedded zoo"  # the sentence before the example's printed table


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.S | re.M)


def _shape(text: str) -> list[list[str]]:
    """The lines of a printed table, numbers, column widths and ties (≈) masked: the README shows the embedded
    zoo's numbers, the test runs on the test zoo."""
    return [[word for word in re.sub(r"-{2,}", "-", NUMBER.sub("#", line)).split() if word != "≈"]
            for line in text.strip().splitlines()]


def test_readme_python_examples_run_in_order(tmp_path, monkeypatch, capsys):
    blocks = _blocks("python")
    assert blocks and SETUP in blocks[0], "the first example must set ZOO and CIFAR (the tests swap in their own)"
    monkeypatch.chdir(tmp_path)
    # the README submits to the board, which knows the embedded zoo; here the test zoo stands in for it
    monkeypatch.setattr(board_zoos, "HUB_ZOOS", (board_zoos.KnownZoo.at("cifar10-tiny (test zoo)", TEST_ZOO),))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    session: dict = {}
    try:
        for number, block in enumerate(blocks, start=1):
            code = block.replace(SETUP, f"ZOO, CIFAR = {str(TEST_ZOO)!r}, {str(CIFAR)!r}")
            exec(compile(code, f"README.md python example {number}", "exec"), session)
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    table = re.search(r"^```text\n(.*?)^```", README.split(EXAMPLE_OUTPUT, 1)[1], re.S | re.M).group(1)
    shown = printed[printed.index("accuracy-prediction: mean ± std over seeds"):].splitlines()
    assert _shape("\n".join(shown[:len(table.strip().splitlines())])) == _shape(table)
    assert session["mine"].metanet.hparams == {"out_dim": 1, "hidden": 16}  # as the README says
    assert (tmp_path / "leaderboard" / "submissions").is_dir() and (tmp_path / "results").is_dir()
