"""Backend registry: spec strings, options validation, plugins through entry points, listing."""

from __future__ import annotations

import pytest

from _eval_helpers import plugin_entry_point
from depthkit.backends import (BUILTIN, DEFAULT_BACKEND, backend_class, backend_entries, get_backend, list_backends,
                               parse_spec)
from depthkit.backends.base import Backend, Option, ScoreRequest, TokenScores
from depthkit.backends.fake import FakeBackend
from depthkit.errors import DepthkitError


class PluginBackend(Backend):
    name = "plugin-test"
    description = "a third-party backend"
    requires = "nothing"
    options = {"api_key": Option(str, None, "secret key", secret=True),
               "base_url": Option(str, None, "server"),
               "temperature": Option(float, 0.0, "sampling temperature"),
               "timeout": Option(float, 10.0, "seconds", affects_output=False)}

    def score(self, requests):
        return [TokenScores((r.continuation,), (0,), (-1.0,)) for r in requests]


def test_parse_spec_forms():
    assert parse_spec(None) == (DEFAULT_BACKEND, None)
    assert parse_spec("") == (DEFAULT_BACKEND, None)
    assert parse_spec("hf:HuggingFaceTB/SmolLM2-135M") == ("hf", "HuggingFaceTB/SmolLM2-135M")
    assert parse_spec("hf:/models/gpt2") == ("hf", "/models/gpt2")
    assert parse_spec("smollm2") == ("embedded", None)
    assert parse_spec("openai:qwen@http://127.0.0.1:8000/v1") == ("openai", "qwen@http://127.0.0.1:8000/v1")
    assert parse_spec("fake") == ("fake", None)


def test_local_folder_without_prefix_means_hf(tmp_path):
    assert parse_spec(str(tmp_path)) == ("hf", str(tmp_path))


def test_openai_is_a_lazy_builtin_entry():
    assert BUILTIN["openai"] == "depthkit.backends.openai:OpenAIBackend"
    assert "openai" in backend_entries()


def test_unknown_backend_lists_known_ones():
    with pytest.raises(DepthkitError) as err:
        get_backend("fak")
    text = str(err.value)
    assert "unknown backend 'fak'" in text and "did you mean 'fake'" in text
    for name in ("hf", "fake", "embedded", "openai"):
        assert name in err.value.fix


def test_unknown_option_lists_valid_ones():
    with pytest.raises(DepthkitError) as err:
        get_backend("fake", colour="blue")
    assert "has no option colour" in str(err.value)
    for name in FakeBackend.options:
        assert name in err.value.fix


def test_option_values_are_converted_and_checked():
    b = get_backend("fake", seed="3", decay="0.25")
    assert b.config["seed"] == 3 and b.config["decay"] == 0.25
    with pytest.raises(DepthkitError, match="not a int"):
        get_backend("fake", seed="three")
    with pytest.raises(DepthkitError, match="not a float"):
        get_backend("fake", delay="soon")


def test_fingerprint_leaves_out_secrets_and_runtime_options():
    b = PluginBackend("m", api_key="sk-SECRET", temperature="0.5", timeout="3")
    fp = b.fingerprint()
    assert "sk-SECRET" not in repr(fp) and "api_key" not in fp["options"]
    assert "timeout" not in fp["options"] and fp["options"]["temperature"] == 0.5
    assert "api_key" not in b.public_config


def _fake_entry_points(monkeypatch, value: str, name: str = "plugin-test"):
    plugin_entry_point(monkeypatch, "depthkit.backends", name, value)


def test_plugin_found_through_entry_points(monkeypatch):
    _fake_entry_points(monkeypatch, f"{__name__}:PluginBackend")
    assert backend_class("plugin-test") is PluginBackend
    b = get_backend("plugin-test:my-model@http://127.0.0.1:9/v1", temperature="0.1")
    assert b.model == "my-model" and b.config["base_url"] == "http://127.0.0.1:9/v1"
    assert b.score([ScoreRequest("", "x")])[0].total == -1.0
    info = {i.name: i for i in list_backends()}["plugin-test"]
    assert info.problem is None and info.description == "a third-party backend"


def test_broken_plugin_is_reported_not_raised(monkeypatch):
    _fake_entry_points(monkeypatch, "no_such_module_xyz:Thing", name="broken")
    info = {i.name: i for i in list_backends()}["broken"]
    assert info.problem and "no_such_module_xyz" in info.problem
    with pytest.raises(DepthkitError, match="cannot be loaded"):
        get_backend("broken")


def test_plugin_must_subclass_backend(monkeypatch):
    _fake_entry_points(monkeypatch, "json:dumps", name="notabackend")
    with pytest.raises(DepthkitError, match="not a depthkit Backend"):
        get_backend("notabackend")


def test_list_backends_shows_default_and_needs():
    infos = {i.name: i for i in list_backends()}
    assert {"embedded", "hf", "fake", "openai"} <= set(infos)
    assert infos["embedded"].default and not infos["hf"].default
    assert "smollm2" in infos["embedded"].aliases
    assert infos["fake"].problem is None and infos["fake"].requires
    d = infos["embedded"].to_dict()
    assert d["default"] is True and "start_token" in d["options"]


def test_embedded_has_one_model():
    with pytest.raises(DepthkitError, match="has one model"):
        get_backend("embedded:gpt2")


def test_hf_needs_a_model_and_checks_dtype():
    with pytest.raises(DepthkitError, match="needs a model"):
        get_backend("hf")
    with pytest.raises(DepthkitError, match="dtype"):
        get_backend("hf:/nowhere", dtype="int8")


def test_backend_instance_passes_through():
    b = FakeBackend()
    assert get_backend(b) is b
    with pytest.raises(DepthkitError):
        get_backend(b, seed=1)
