"""The command as a newcomer meets it: --version, help with defaults, a closed pipe, init-env."""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.channels import discover_adapters
from gateway.cli import _parser, main
from gateway.config import check_config
from gateway.deploy_env import read_env_file

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "channels.yaml"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("court-gateway 0.")


def test_every_option_has_help_and_its_default_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        assert command.description, name
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{name} {action.dest}"
        with pytest.raises(SystemExit):
            main([name, "--help"])
        text = capsys.readouterr().out
        if any(a.option_strings and a.default not in (None, False, argparse.SUPPRESS) for a in command._actions):
            assert "(default:" in text, name


def test_verify_backend_says_what_it_needs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["verify-backend", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "must trust that JWKS" in text and "--gateway http://127.0.0.1:JWKS_PORT" in text


def test_a_closed_pipe_is_no_traceback() -> None:
    # `court-gateway config-schema | head -1`: the reader closes after one line.
    command = [sys.executable, "-m", "gateway.cli", "config-schema"]
    producer = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert producer.stdout is not None and producer.stderr is not None
    producer.stdout.readline()
    producer.stdout.close()
    errors = producer.stderr.read().decode()
    assert producer.wait(30) == 0
    assert "Traceback" not in errors and "BrokenPipe" not in errors


def test_init_env_makes_the_shipped_config_pass_on_a_fresh_machine(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.endswith(("_SECRET", "_KEY", "_TOKEN", "_PHONE", "_PHONES")):
            monkeypatch.delenv(name)
    assert check_config(CONFIG, {}, discover_adapters())  # fails without the variables
    out = tmp_path / "gateway.env"
    assert main(["init-env", str(CONFIG), "--out", str(out), "--contact-phone", "13800138000"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    env = read_env_file(out)
    assert "GATEWAY_SIGNING_KEY" in env and "BEGIN" in env["GATEWAY_SIGNING_KEY"]
    assert check_config(CONFIG, env, discover_adapters()) == []
    # Sourced by a shell, as docs/deployment.md says, the same file works.
    shell = subprocess.run(["sh", "-c", (f"set -a; . '{out}'; set +a; exec {sys.executable} -m gateway.cli "
                            f"check-config '{CONFIG}'")], cwd=ROOT, capture_output=True, text=True,
                           env={"PATH": os.environ["PATH"]}, check=False)
    assert shell.returncode == 0, shell.stdout + shell.stderr
    # Never overwritten; phones are never made up.
    assert main(["init-env", str(CONFIG), "--out", str(out), "--contact-phone", "13800138000"]) == 1
    assert main(["init-env", str(CONFIG), "--out", str(tmp_path / "other.env")]) == 1
