"""The published adapter API: what ``gateway`` exports, that it is documented, and that adapters use nothing else."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gateway

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "adapters.md"
#: packages that are adapters: they may import ``gateway`` and nothing below it
ADAPTER_TREES = [ROOT / "adapters", ROOT / "examples"]


def test_all_lists_exactly_the_published_names() -> None:
    assert gateway.__all__ == sorted(gateway._HOMES)


@pytest.mark.parametrize("name", gateway.__all__)
def test_every_published_name_resolves(name: str) -> None:
    assert getattr(gateway, name) is not None


def test_every_published_name_is_documented_in_the_guide() -> None:
    documented = set(re.findall(r"^\| `([A-Za-z_]+)` \|", GUIDE.read_text(encoding="utf-8"), re.MULTILINE))
    assert sorted(documented) == gateway.__all__


def test_an_unpublished_name_is_an_attribute_error() -> None:
    internal = "Pipeline"  # exists under gateway/, but is not for adapters
    with pytest.raises(AttributeError):
        getattr(gateway, internal)


def _gateway_imports(path: Path) -> list[str]:
    """Every ``gateway.*`` module the file imports, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gateway."):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("gateway.")]
    return found


def test_no_adapter_imports_a_gateway_module_directly() -> None:
    offenders = {
        str(path.relative_to(ROOT)): modules
        for tree in ADAPTER_TREES if tree.is_dir()
        for path in tree.rglob("*.py")
        if (modules := _gateway_imports(path))
    }
    assert offenders == {}


def test_importing_the_api_loads_nothing_until_a_name_is_used() -> None:
    probe = "import sys, gateway; print(sorted(m for m in sys.modules if m.startswith(('starlette', 'redis', 'httpx'))))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "[]"
