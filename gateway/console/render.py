"""Jinja2 templates of the console (server-rendered, autoescaped), and the HTML response."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

_ENV = Environment(loader=PackageLoader("gateway.console", "templates"), autoescape=select_autoescape(),
                   trim_blocks=True, lstrip_blocks=True)

#: no framing by other sites, no inline script from anywhere but this origin's files, no referrer leaks
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
