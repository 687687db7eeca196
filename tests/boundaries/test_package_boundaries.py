"""Which top-level package may import which: the reference court checks the gateway instead of
sharing its code, the gateway never reaches for the reference court or the demo, and the demo data
is pure data every part of the demo may read, adapters included.

Imports are read from the source with ``ast`` (every ``import`` and ``from ... import``, including
the ones inside functions), so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("gateway", "adapters", "reference_court", "workbench", "demo_data", "tests", "bench")

#: package -> the project packages it must not import
FORBIDDEN = {
    "reference_court": ("gateway", "adapters", "workbench"),
    "gateway": ("reference_court", "workbench", "demo_data", "adapters"),
    "demo_data": tuple(p for p in PROJECT_PACKAGES if p != "demo_data"),
    # an adapter's demo stand-ins take their people from demo_data, never from the reference court
    "adapters": ("reference_court", "workbench"),
    "examples": ("reference_court", "workbench"),
}
#: an adapter's test driver (``driver.py``) is the test side: it builds on workbench's driver interface
DRIVER_MAY_IMPORT = ("workbench",)


def imported_modules(source: Path) -> list[tuple[int, str]]:
    tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def offending_imports(package: str, forbidden: tuple[str, ...]) -> list[str]:
    offences: list[str] = []
    if not (ROOT / package).is_dir():
        return offences
    for source in sorted((ROOT / package).rglob("*.py")):
        allowed = DRIVER_MAY_IMPORT if source.name == "driver.py" else ()
        for line, module in imported_modules(source):
            if module.split(".")[0] in forbidden and module.split(".")[0] not in allowed:
                offences.append(f"{source.relative_to(ROOT)}:{line}: {module}")
    return offences


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_none_of_its_forbidden_neighbours(package: str) -> None:
    assert offending_imports(package, FORBIDDEN[package]) == []


def test_the_check_sees_a_lazy_import_inside_a_function(tmp_path: Path) -> None:
    source = tmp_path / "lazy.py"
    source.write_text("def f() -> None:\n    from gateway.models import FeeArgs\n", encoding="utf-8")
    assert imported_modules(source) == [(2, "gateway.models")]
