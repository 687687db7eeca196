"""Where each court lives inside the one reference-court app.

Every court is mounted under ``/{slug}``, the slug being its code with 粤
spelled ``yue`` (``粤0106`` -> ``/yue0106``), so one process serves all of
Guangzhou and a court's ``base_url`` is ``http://host:port/yue0106``. With
``only_court`` one court is served at the root instead.
"""

from __future__ import annotations

REF_PREFIX = "/_ref"


def court_slug(code: str) -> str:
    """``粤0106`` -> ``yue0106``; ``粤01`` -> ``yue01``."""
    return code.replace("粤", "yue").lower()


def court_base_url(root_url: str, code: str) -> str:
    """The ``base_url`` a gateway config names for ``code`` when all courts share ``root_url``."""
    return f"{root_url.rstrip('/')}/{court_slug(code)}"


class CourtResolver:
    """Which court a request path belongs to (``None`` for the test hooks and the index)."""

    def __init__(self, codes: list[str], only_court: str | None) -> None:
        self._by_slug = {court_slug(code): code for code in codes}
        self._only = only_court

    @property
    def codes(self) -> list[str]:
        return list(self._by_slug.values())

    def code_for_slug(self, slug: str) -> str | None:
        return self._by_slug.get(slug.lower())

    def court_of(self, path: str) -> str | None:
        if path == REF_PREFIX or path.startswith(REF_PREFIX + "/"):
            return None
        if self._only is not None:
            return self._only if path != "/" else None
        segment = path.split("/", 2)[1] if path.startswith("/") else ""
        return self._by_slug.get(segment)
