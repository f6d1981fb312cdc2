import time
from types import SimpleNamespace

import pytest
from huggingface_hub import HfApi

from gmn_bench import load_zoo, write_zoo
from gmn_bench.cli import main
from gmn_bench.zoo.publish import PublishError, dry_run, publish


@pytest.fixture
def zoo(rows, tmp_path):
    folder = write_zoo(rows, tmp_path / "zoo")
    (tmp_path / "zoo.parts").mkdir()  # a build's work folder beside it is never uploaded
    return folder


def test_dry_run_writes_a_folder_datasets_reads(zoo, tmp_path, capsys):
    assert main(["publish", str(zoo), "--dry-run", str(tmp_path / "hub")]) == 0
    assert sorted(load_zoo(tmp_path / "hub", config="id")) == ["test", "train"]
    assert (tmp_path / "hub" / "plots" / "accuracy_histogram.png").exists()
    with pytest.raises(PublishError, match="exists"):
        dry_run(zoo, tmp_path / "hub")


def test_not_a_zoo_is_refused(tmp_path):
    with pytest.raises(PublishError, match="not a zoo folder"):
        dry_run(tmp_path, tmp_path / "out")


def test_no_network_fails_fast_with_a_clear_message(zoo, capsys):
    api = HfApi(endpoint="http://127.0.0.1:9", token="hf_fake")  # nothing listens on the discard port
    start = time.time()
    with pytest.raises(PublishError, match="cannot reach the Hugging Face Hub"):
        publish(zoo, "org/zoo", "v1.0", api=api)
    assert time.time() - start < 30


class FakeHub:
    """Records the huggingface_hub calls publish makes."""

    def __init__(self, tags=()):
        self.tags, self.calls = list(tags), []

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw["repo_type"]))

    def list_repo_refs(self, repo_id, repo_type):
        return SimpleNamespace(tags=[SimpleNamespace(name=t) for t in self.tags])

    def upload_folder(self, **kw):
        self.calls.append(("upload_folder", kw["folder_path"], kw["ignore_patterns"]))
        return SimpleNamespace(oid="abc123")

    def create_tag(self, repo_id, tag, revision, repo_type, tag_message):
        self.calls.append(("create_tag", tag, revision))


def test_publish_uploads_then_tags_the_commit(zoo):
    hub = FakeHub()
    assert publish(zoo, "org/zoo", "v1.0", api=hub).endswith("org/zoo/tree/v1.0")
    assert [c[0] for c in hub.calls] == ["create_repo", "upload_folder", "create_tag"]
    assert hub.calls[0][2] == "dataset" and hub.calls[2] == ("create_tag", "v1.0", "abc123")
    assert "*.parts/**" in hub.calls[1][2]


def test_publish_refuses_to_overwrite_a_tag(zoo):
    hub = FakeHub(tags=["v1.0"])
    with pytest.raises(PublishError, match="already has tag 'v1.0'"):
        publish(zoo, "org/zoo", "v1.0", api=hub)
    assert [c[0] for c in hub.calls] == ["create_repo"]
