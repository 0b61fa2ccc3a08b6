"""benepar's real loading and parsing path, on a tiny model built in-process with benepar's own classes.

No English benepar model can be downloaded on this machine, so these tests build a tiny char-LSTM
model (see tests/_verify_helpers.py). Such a model verifies nothing linguistically: it is
untrained here, and even trained on the generator's own trees it would only echo them. The tests
check the plumbing: model lookup, loading, batching, per-item failures, scoring, records.
"""

from __future__ import annotations

import json
import logging

import pytest

from depthkit.errors import BackendError, UsageError
from depthkit.verify import benepar_check, verify_folder

from _verify_helpers import build_tiny_benepar, make_generated, make_item, read_records

torch = pytest.importorskip("torch")
pytest.importorskip("benepar")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    # 12 positions: 10 words. The tiny grammar's depth-2 sentences (11 words) are too long for it,
    # standing in for the 512-subword limit of the released models.
    return build_tiny_benepar(tmp_path_factory.mktemp("benepar") / "tiny.pt", encoder_max_len=12)


@pytest.fixture
def folder(tmp_path):
    return make_generated(tmp_path / "set", depths="0-2", per_depth=3)


def test_tiny_model_parses_and_too_long_sentences_fail_alone(folder, tiny_model):
    summary = verify_folder(folder, skip=("spacy",), benepar_model=str(tiny_model), batch_size=64, progress=False)
    records = read_records(folder)
    items = [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]
    assert len(records) == len(items)
    long_ = [r for r, it in zip(records, items) if len(it["good"].split()) > 10]
    short = [r for r, it in zip(records, items) if len(it["good"].split()) <= 10]
    assert long_ and short
    for r in long_:
        assert r["benepar"]["status"] == "error" and "length" in r["benepar"]["reason"]
        assert r["verified"] is False
    for r in short:
        b = r["benepar"]
        assert b["status"] in ("ok", "failed"), b
        assert b["parse"].startswith("(") and isinstance(b["measured_depth"], int)
        assert b["unlabeled_f1"] is None or 0.0 <= b["unlabeled_f1"] <= 1.0
    rows = [r for r in summary["rows"] if r["parser"] == "benepar"]
    assert sum(r["errors"] for r in rows) == len(long_)
    manifest = json.loads((folder / "manifest.json").read_text())["verify"]
    assert manifest["parsers"]["benepar"]["ran"] is True
    assert manifest["parsers"]["benepar"]["model"] == str(tiny_model)
    assert manifest["parsers"]["benepar"]["source"] == "argument"


@pytest.fixture
def two_torch_threads():
    """torch at 2 threads for the test (so a run at 1 thread shows whether it restores), then as it was."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(before)


def test_torch_threads_are_set_for_the_block_and_restored_after_an_error(two_torch_threads):
    with benepar_check.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == two_torch_threads
    with pytest.raises(KeyboardInterrupt), benepar_check.torch_threads(1):
        raise KeyboardInterrupt
    assert torch.get_num_threads() == two_torch_threads
    with benepar_check.torch_threads(None):
        assert torch.get_num_threads() == two_torch_threads


def test_an_interrupted_run_restores_torch_threads(folder, tiny_model, monkeypatch, two_torch_threads):
    def interrupted(self, intended, labels):
        assert torch.get_num_threads() == 1  # benepar runs with --torch-threads
        raise KeyboardInterrupt

    monkeypatch.setattr(benepar_check.BeneparChecker, "check_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        verify_folder(folder, skip=("spacy",), benepar_model=str(tiny_model), torch_threads=1, progress=False)
    assert torch.get_num_threads() == two_torch_threads


def test_loading_benepar_leaves_hf_hub_offline_as_it_was(tiny_model, monkeypatch):
    import os

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    benepar_check.load_benepar(str(tiny_model))
    assert "HF_HUB_OFFLINE" not in os.environ
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    benepar_check.load_benepar(str(tiny_model))
    assert os.environ["HF_HUB_OFFLINE"] == "0"


def test_model_from_the_environment_and_torch_threads_restored(folder, tiny_model, monkeypatch):
    monkeypatch.setenv(benepar_check.ENV_VAR, str(tiny_model))
    before = torch.get_num_threads()
    verify_folder(folder, skip=("spacy",), progress=False, torch_threads=1)
    assert torch.get_num_threads() == before
    manifest = json.loads((folder / "manifest.json").read_text())["verify"]
    assert manifest["parsers"]["benepar"]["source"] == "environment"
    assert all(r["benepar"]["status"] != "not_run" for r in read_records(folder))


def test_without_a_model_benepar_is_not_run_and_says_so(folder, monkeypatch, caplog):
    monkeypatch.delenv(benepar_check.ENV_VAR, raising=False)
    monkeypatch.setattr(benepar_check, "_installed", lambda name: None)  # as if benepar_en3 were absent
    caplog.set_level(logging.INFO, logger="depthkit")
    summary = verify_folder(folder, skip=("spacy",), progress=False)
    assert "benepar: NOT RUN" in caplog.text
    assert all(r["benepar"]["status"] == "not_run" for r in read_records(folder))
    assert any("benepar not run" in n for n in summary["notes"])
    assert summary["parsers"]["benepar"]["ran"] is False


def test_a_named_model_that_is_missing_is_an_error(tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="not found"):
        benepar_check.resolve_benepar_model(tmp_path / "missing.pt")
    monkeypatch.setenv(benepar_check.ENV_VAR, str(tmp_path / "gone"))
    with pytest.raises(UsageError) as exc:
        benepar_check.resolve_benepar_model()
    assert benepar_check.ENV_VAR in str(exc.value)


def test_an_installed_benepar_en3_is_found_where_benepar_download_puts_it(tmp_path, monkeypatch):
    import nltk.data

    (tmp_path / "models" / "benepar_en3").mkdir(parents=True)
    monkeypatch.delenv(benepar_check.ENV_VAR, raising=False)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    choice = benepar_check.resolve_benepar_model()
    assert choice.source == "installed" and choice.path == str(tmp_path / "models" / "benepar_en3")
    assert benepar_check.resolve_benepar_model("benepar_en3").path == choice.path


def test_a_broken_model_file_is_a_clear_error(folder, tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(BackendError, match="could not load benepar model"):
        verify_folder(folder, skip=("spacy",), benepar_model=str(broken), progress=False)


def test_one_exception_in_a_batch_only_costs_that_item(tiny_model):
    import depthkit
    from depthkit.verify.intended import intended_structure

    from _verify_helpers import TINY_GRAMMAR

    g = depthkit.load_grammar(TINY_GRAMMAR)
    parser = benepar_check.load_benepar(str(tiny_model))
    real_parse = parser._parser.parse  # the network under benepar.Parser: make it fail on one sentence

    def parse(examples, **kwargs):
        if any(e.words[1] == "pilot" for e in examples):
            raise RuntimeError("boom")
        return real_parse(examples, **kwargs)

    parser._parser.parse = parse
    checker = benepar_check.BeneparChecker(parser)
    items = [make_item(f"the {n} laughs", f"(S (NP (Det the) (N {n})) (VP (IV laughs)))", target=[2, 3],
                       controller=[1, 2], item_id=str(i)) for i, n in enumerate(("doctor", "pilot", "author"))]
    intended = [intended_structure(it, g) for it in items]
    recs = checker.check_batch(intended, [benepar_check.depth_labels(g)] * 3)
    assert [r.status for r in recs][1] == "error" and "boom" in recs[1].reason
    assert recs[0].status in ("ok", "failed") and recs[2].status in ("ok", "failed")


def test_download_failure_says_it_needs_internet(monkeypatch):
    import benepar

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(benepar, "download", offline)
    with pytest.raises(BackendError) as exc:
        benepar_check.download_benepar()
    assert "internet" in str(exc.value) and benepar_check.ENV_VAR in str(exc.value)
