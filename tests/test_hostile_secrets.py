"""Secrets: a password inside a server address is never written or printed; a key given as api_key_env is refused."""

from __future__ import annotations

import logging
import socket

import pytest

from depthkit.backends import get_backend
from depthkit.cli import main
from depthkit.errors import BackendError, UsageError, redact_secrets
from depthkit.logs import logger
from depthkit.store import write_manifest

SECRET = "s3cretKEY42"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hostile_secrets_redact_replaces_only_the_password():
    text = f"see http://alice:{SECRET}@example.org:8000/v1 and https://bob@host/v1 and http://h/v1"
    assert redact_secrets(text) == "see http://alice:***@example.org:8000/v1 and https://bob@host/v1 and http://h/v1"
    assert redact_secrets(f"HTTPS://:{SECRET}@h/v1") == "HTTPS://:***@h/v1"


def test_hostile_secrets_backend_config_and_fingerprint_hide_the_password():
    backend = get_backend(f"openai:m@http://alice:{SECRET}@127.0.0.1:{_closed_port()}/v1")
    try:
        shown = repr(backend) + str(backend.fingerprint()) + str(backend.public_config) + backend.label
        assert SECRET not in shown
        assert "http://alice:***@127.0.0.1" in backend.config["base_url"] and backend.model == "m"
    finally:
        backend.close()


@pytest.mark.parametrize("value", [f"sk-{SECRET}", "my key", "1PASSWORD", "a-b"])
def test_hostile_secrets_api_key_env_that_looks_like_a_key_is_refused(value):
    with pytest.raises(UsageError) as info:
        get_backend("openai:m@http://127.0.0.1:9/v1", api_key_env=value)
    assert value not in str(info.value) and "looks like a key" in str(info.value)


def test_hostile_secrets_api_key_env_name_is_accepted():
    backend = get_backend("openai:m@http://127.0.0.1:9/v1", api_key_env="MY_SERVER_KEY_2")
    assert backend.config["api_key_env"] == "MY_SERVER_KEY_2"
    backend.close()


def test_hostile_secrets_eval_writes_and_prints_no_password(tmp_path, capsys):
    from _eval_helpers import items_folder

    folder = items_folder(tmp_path)
    url = f"http://alice:{SECRET}@127.0.0.1:{_closed_port()}/v1"
    code = main(["eval", str(folder), "--model", f"openai:m@{url}", "--option", "max_retries=0", "--option",
                 "timeout=2", "--out", str(tmp_path / "run"), "-q"])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err
    assert "alice:***@127.0.0.1" in captured.err  # the address is shown, its password is not
    assert SECRET not in captured.err + captured.out
    written = b"".join(p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file())
    assert b"alice:***@" in written and SECRET.encode() not in written


def test_hostile_secrets_errors_logs_and_manifests_are_redacted(tmp_path, caplog, capsys):
    error = BackendError(f"cannot reach http://u:{SECRET}@h/v1", fix=f"check http://u:{SECRET}@h/v1")
    assert SECRET not in str(error)
    with caplog.at_level(logging.INFO, logger="depthkit"):
        logger.info("server %s answers", f"http://u:{SECRET}@h/v1")
    assert SECRET not in caplog.text and "http://u:***@h/v1" in caplog.text
    write_manifest(tmp_path, {"eval": {"backend": {"options": {"base_url": f"http://u:{SECRET}@h/v1"}}}})
    assert SECRET not in (tmp_path / "manifest.json").read_text()
