"""What a config check reports: every problem at once, each as ``PATH:LINE: dotted.key: message``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT_KEY = "(root)"


@dataclass(frozen=True, order=True)
class ConfigProblem:
    """One problem in a config file, located for an editor and a CI log."""

    file: Path
    line: int
    key: str  # dotted, e.g. ``channels.efating.devices.EFT-TH-001.key_env``; "" for the whole file
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key or ROOT_KEY}: {self.message}"


class ConfigError(Exception):
    """The config is invalid. ``problems`` lists all of them, in file order."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, p.key, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))
