"""Hub zoos are read at exactly the asked revision: from a fake local Hub cache (the tests run offline),
a revision that is not there is an error, never the cached data of another revision."""
import shutil

import httpx2
import huggingface_hub
import pytest
from huggingface_hub.errors import RevisionNotFoundError

from conftest import make_rows
from gmn_bench import ZooUnavailableError, load_zoo, write_zoo
from gmn_bench.zoo import zoo_configs

MAIN, V1 = "a" * 40, "b" * 40


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """A Hub cache holding dataset ``org/zoo`` at two commits: ``main`` (8 rows) and tag ``v1.0`` (4 rows)."""
    repo = tmp_path / "hub" / "datasets--org--zoo"
    rows = make_rows()
    for commit, subset in ((MAIN, rows), (V1, rows[:4])):
        write_zoo(subset, repo / "snapshots" / commit)
        shutil.rmtree(repo / "snapshots" / commit / "plots")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(MAIN)
    (repo / "refs" / "v1.0").write_text(V1)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return repo


def test_each_revision_reads_its_own_files(hub_cache):
    assert len(load_zoo("org/zoo", split="train")) == 8
    assert len(load_zoo("org/zoo", split="train", revision="main")) == 8
    assert len(load_zoo("org/zoo", split="train", revision="v1.0")) == 4
    assert len(load_zoo("org/zoo", split="train", revision=V1)) == 4
    assert zoo_configs("org/zoo", revision="v1.0") == ["default", "id"]


@pytest.mark.parametrize("revision", ["v1.1", "v1.0 ", "c" * 40])
def test_a_revision_that_is_not_there_is_an_error_not_another_revisions_data(hub_cache, revision):
    load_zoo("org/zoo", split="train", revision="v1.0")  # another revision is cached and was just read
    with pytest.raises(ZooUnavailableError) as info:
        load_zoo("org/zoo", split="train", revision=revision)
    assert f"revision {revision!r} is not in the local Hub cache" in str(info.value)


def test_a_revision_the_hub_does_not_have_is_named(hub_cache, monkeypatch):
    def repo_info(self, repo_id, *, revision=None, **kwargs):
        url = f"https://huggingface.co/api/datasets/{repo_id}/revision/{revision}"
        raise RevisionNotFoundError("404 Revision Not Found", response=httpx2.Response(404, request=httpx2.Request("GET", url)))

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", repo_info)
    with pytest.raises(ZooUnavailableError, match="zoo org/zoo has no revision 'v1.1' on the Hub"):
        load_zoo("org/zoo", revision="v1.1")


def test_a_repo_that_is_neither_cached_nor_reachable_is_named(hub_cache):
    with pytest.raises(ZooUnavailableError, match="zoo org/other is not a local folder, and its default revision "
                                                  "is not in the local Hub cache"):
        load_zoo("org/other")


def test_streaming_from_the_hub_needs_the_hub_and_says_so(hub_cache):
    with pytest.raises(ZooUnavailableError, match="zoo org/zoo is not a local folder"):
        load_zoo("org/zoo", revision="v1.0", streaming=True)
