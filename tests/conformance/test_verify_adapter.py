"""``court-gateway verify-adapter NAME`` as an operator runs it: a real process, real servers on loopback.

Outside adapters are registered as an installed package would register them: a ``*.dist-info``
with entry points on the subprocess's path (tests/support/distributions.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from setuptools import find_packages

from tests.support.distributions import write_distribution
from workbench.conformance import CHECKS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "court-gateway-example-terminal"


def verify(name: str, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "gateway.cli", "verify-adapter", name], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env=env, check=False)


def rows(output: str, channel: str) -> dict[str, str]:
    """check name -> PASS/FAIL/SKIP, from the table's lines for one channel."""
    found = {}
    for line in output.splitlines():
        if line.startswith(channel + " "):
            rest = line[len(channel):].strip()
            for check in CHECKS:
                if rest.startswith(check.name):
                    found[check.name] = rest[len(check.name):].split()[0]
    return found


def test_a_built_in_adapter_passes_every_check_on_each_of_its_channels() -> None:
    run = verify("kiosk")
    assert run.returncode == 0, run.stdout + run.stderr
    for channel in ("efating", "yuezhizhu"):
        assert rows(run.stdout, channel) == {check.name: "PASS" for check in CHECKS}, run.stdout
    assert "passed: 32 passed, 0 failed, 0 skipped" in run.stdout


def test_the_example_package_passes_every_check() -> None:
    """The worked example is installed by scripts/test (pip install -e examples/...), never by pip install -e ."""
    assert "example_terminal" in {e.name for e in metadata.entry_points(group="court_gateway.adapters")}, \
        "install the example: pip install -e examples/court-gateway-example-terminal (scripts/test does)"
    run = verify("example_terminal")
    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(run.stdout, "example_terminal") == {check.name: "PASS" for check in CHECKS}, run.stdout


#: what the 5G chatbot's menu and questions cannot make (the driver says why on each line): a separate upload,
#: an operation outside the menu, a field no question asks for, a template search naming a court
RCS5G_CANNOT_EXPRESS = {
    "parity: the court receives the canonical requests", "error: unknown operation -> NOT_FOUND",
    "error: mass assignment -> VALIDATION_FAILED", "error: service not offered -> SERVICE_NOT_ENABLED",
    "error: court down -> BACKEND_UNAVAILABLE", "error: court malformed -> BACKEND_UNAVAILABLE",
    "error: court answers 10 MB -> BACKEND_UNAVAILABLE", "error: court redirects -> BACKEND_UNAVAILABLE",
}


def test_the_5g_chatbot_passes_every_check_it_can_express() -> None:
    """Answers in words compared with the adapter's own rendering of the canonical result, errors as the code's
    message, a reused messageId deduplicated; the rest skipped with the reason, never failed or passed."""
    run = verify("rcs5g")
    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(run.stdout, "rcs5g") == {check.name: "SKIP" if check.name in RCS5G_CANNOT_EXPRESS else "PASS"
                                         for check in CHECKS}, run.stdout
    skipped = [line for line in run.stdout.splitlines() if line.startswith("rcs5g ") and " SKIP " in line]
    assert len(skipped) == len(RCS5G_CANNOT_EXPRESS) and all(line.split(" SKIP ")[1].strip() for line in skipped)


def test_an_adapter_that_breaks_a_rule_fails_that_check_and_exit_1(tmp_path: Path) -> None:
    write_distribution(tmp_path, "leaky-terminal", {
        "court_gateway.adapters": {"leaky_terminal": "tests.conformance.leaky_terminal:ADAPTER"},
        "court_gateway.adapter_drivers": {"leaky_terminal": "tests.conformance.leaky_terminal:drivers"},
    })
    run = verify("leaky_terminal", tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    table = rows(run.stdout, "leaky_terminal")
    assert table.pop("no personal data in logs") == "FAIL", run.stdout
    assert set(table.values()) == {"PASS"}, run.stdout  # the one rule broken, and only it
    assert "FAILED: 15 passed, 1 failed" in run.stdout


def test_an_unknown_adapter_is_exit_2_with_the_installed_names() -> None:
    run = verify("telegraph")
    assert run.returncode == 2
    assert "no adapter named 'telegraph' is installed" in run.stderr and "kiosk" in run.stderr


def test_an_adapter_without_a_driver_is_exit_2(tmp_path: Path) -> None:
    write_distribution(tmp_path, "driverless", {"court_gateway.adapters": {"kiosk_copy": "adapters.kiosk:ADAPTER"}})
    run = verify("kiosk_copy", tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "registered no driver under court_gateway.adapter_drivers" in run.stderr


@pytest.mark.parametrize("package", ["example_terminal"])
def test_the_example_is_not_part_of_the_projects_own_install(package: str) -> None:
    """README's `pip install -e .` installs gateway, adapters, reference_court, workbench; never the example."""
    found = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    assert package not in find_packages(str(ROOT), include=found["find"]["include"])
    assert (EXAMPLE / package / "__init__.py").is_file()
