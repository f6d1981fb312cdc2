"""Every Python example of the README and of the documentation pages (docs/), run page by page on the test zoo and
the CIFAR-10 slice, each page's examples in order as one session, so that none can go stale."""
import re
from pathlib import Path

import pytest
import torch

from gmn_bench.leaderboard import zoos as board_zoos
from conftest import CIFAR, TEST_ZOO

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# what a page sets, and what the tests set instead: the test zoo and the CIFAR-10 slice (nothing from the Hub)
SETUP = {"ZOO = DEFAULT_ZOO": f"ZOO = {str(TEST_ZOO)!r}", 'CIFAR = "uoft-cs/cifar10"': f"CIFAR = {str(CIFAR)!r}"}
NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")
EXAMPLE_OUTPUT = "prints, on the embedded zoo"  # the sentence before an example's printed table
TABLE_HEAD = re.compile(r"^\S+: mean ± std over seeds", re.M)
# what a page's examples promise beyond running (their session, the folder they ran in)
PROMISES = {
    "README.md": lambda session, here: (here / "leaderboard" / "submissions").is_dir(),
    "docs/your-metanet.md": lambda session, here: session["mine"].metanet.hparams == {"out_dim": 1, "hidden": 16},
}


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


LEADER = re.compile(r"(?<!vs )\bbest\b(?![:\w])")


def _shape(text: str) -> list[list[str]]:
    """The lines of a printed table, numbers, column widths, ties (≈) and which entry leads ("best" in place of
    a difference) masked: the pages show the embedded zoo's numbers, the tests run on the test zoo."""
    return [[word for word in re.sub(r"-{2,}", "-", LEADER.sub("# [#, #]", NUMBER.sub("#", line))).split()
             if word != "≈"] for line in text.strip().splitlines()]


def _for_the_tests(code: str) -> str:
    for line, replacement in SETUP.items():
        code = code.replace(line, replacement)
    assert code.count("DEFAULT_ZOO") == code.count("import DEFAULT_ZOO"), "set ZOO with the line `ZOO = DEFAULT_ZOO`"
    assert "uoft-cs/cifar10" not in code, 'set CIFAR with the line `CIFAR = "uoft-cs/cifar10"`'
    return code


def test_every_page_with_python_examples_is_run():
    pages = {p.relative_to(ROOT).as_posix() for p in PAGES if _blocks(p.read_text(), "python")}
    assert {"README.md", "docs/loading-zoos.md", "docs/tasks.md", "docs/your-metanet.md"} <= pages
    assert set(PROMISES) <= pages


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p.read_text(), "python")],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_examples_run_in_order(page, tmp_path, monkeypatch, capsys):
    text = page.read_text()
    name = page.relative_to(ROOT).as_posix()
    monkeypatch.chdir(tmp_path)
    # the examples submit to the board, which knows the embedded zoo; here the test zoo stands in for it
    monkeypatch.setattr(board_zoos, "HUB_ZOOS", (board_zoos.KnownZoo.at("cifar10-tiny (test zoo)", TEST_ZOO),))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    session: dict = {}
    try:
        for number, block in enumerate(_blocks(text, "python"), start=1):
            exec(compile(_for_the_tests(block), f"{name} python example {number}", "exec"), session)
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    if EXAMPLE_OUTPUT in text:  # the table shown is the table printed, up to the numbers
        table = _blocks(text.split(EXAMPLE_OUTPUT, 1)[1], "text")[0]
        head = TABLE_HEAD.search(table).group(0)
        shown = printed[printed.index(head):].splitlines()
        assert _shape("\n".join(shown[:len(table.strip().splitlines())])) == _shape(table)
    assert PROMISES.get(name, lambda session, here: True)(session, tmp_path)
