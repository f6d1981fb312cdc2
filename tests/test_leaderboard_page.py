"""The board's HTML page in a real headless browser (Debian's chromium and chromedriver): it
loads from a file with no network, shows every entry, and clicking a header sorts the rows."""
import shutil
from pathlib import Path

import pytest

from gmn_bench.leaderboard import Ledger, build_board, write_board
from leaderboard_corpus import REGRESSION_TASK, good_submission, board_zoos

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

CHROMEDRIVER = Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(not CHROMEDRIVER.exists() or not shutil.which("chromium"),
                                reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--window-size=1280,1600")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root, ledger = tmp_path_factory.mktemp("page"), Ledger()
    for metanet, noise, n_params, day in (("deepsets", 0.05, 90000, 21), ("flat-mlp", 0.3, 2000, 22),
                                          ("gmn", 0.01, 500, 23)):  # the board first sees them on these days
        good_submission(root / "submissions", metanet, noise=noise, n_params=n_params)
        ledger = build_board(root / "submissions", board_zoos(), ledger=ledger,
                             now=lambda day=day: f"2026-11-{day}T12:00:00Z").ledger
    _, html = write_board(build_board(root / "submissions", board_zoos(), ledger=ledger), root)
    return html


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=webdriver.ChromeService(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _column(table, index: int) -> list[str]:
    return [row.find_elements(By.TAG_NAME, "td")[index].text for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]


def test_page_shows_every_entry_and_sorts_by_clicked_header(page, browser, tmp_path):
    browser.get(page.as_uri())
    assert browser.title == "gmn-bench leaderboard"
    tables = browser.find_elements(By.CSS_SELECTOR, "table.board")
    assert [t.get_attribute("data-task") for t in tables] == [REGRESSION_TASK, "hyperparameter-prediction-optimizer"]
    table = tables[0]
    headers = [th.text for th in table.find_elements(By.TAG_NAME, "th")]
    assert headers[:4] == ["Rank", "Metanet", "Track", "kendall_tau (mean ± std)"]
    assert _column(table, 2) == ["weights"] * 3  # results files without a track are on the weights track
    assert _column(table, 1) == ["gmn", "deepsets", "flat-mlp"]  # ranked by re-scored Kendall's tau
    assert table.find_element(By.LINK_TEXT, "gmn").get_attribute("href") == "https://example.org/gmn"
    params = table.find_elements(By.TAG_NAME, "th")[headers.index("Params")]
    params.click()
    assert params.get_attribute("aria-sort") == "descending"
    assert _column(table, 1) == ["deepsets", "flat-mlp", "gmn"]  # 90,000 > 2,000 > 500 parameters
    params.click()
    assert _column(table, 1) == ["gmn", "flat-mlp", "deepsets"]
    table.find_elements(By.TAG_NAME, "th")[headers.index("Metanet")].click()
    assert _column(table, 1) == ["gmn", "flat-mlp", "deepsets"]  # names, descending
    table.find_elements(By.TAG_NAME, "th")[headers.index("Submitted")].click()
    assert _column(table, 1) == ["gmn", "flat-mlp", "deepsets"]  # latest first: Nov 23, 22, 21
    table.find_elements(By.TAG_NAME, "th")[headers.index("Submitted")].click()
    assert _column(table, 1) == ["deepsets", "flat-mlp", "gmn"]
    assert browser.find_element(By.CSS_SELECTOR, "figure svg").size["height"] > 100  # the score plot is drawn
    screenshot = tmp_path / "leaderboard.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
