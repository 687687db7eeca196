"""Register a package's entry points as an installed distribution would, without installing anything.

``importlib.metadata`` finds entry points in any ``*.dist-info`` directory on ``sys.path``; a test
writes one into a temporary directory and puts that directory on the path (``monkeypatch.syspath_prepend``
in this process, ``PYTHONPATH`` for a subprocess).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def write_distribution(root: Path, name: str, entry_points: Mapping[str, Mapping[str, str]]) -> Path:
    """``root/<name>-0.0.0.dist-info`` with METADATA and entry_points.txt; returns ``root``."""
    info = root / f"{name.replace('-', '_')}-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.0\n", encoding="utf-8")
    sections = [f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in entries.items())
                for group, entries in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(sections), encoding="utf-8")
    return root
