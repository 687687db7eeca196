"""A court that costs almost nothing: fixed answers for the routes the benchmarks hit.

Served with aiohttp's own server (the cheapest in this stack) so the machine's
CPU goes to the process being measured. Also serves a JWKS for the bench's
trusted issuer at /jwks.
"""

from __future__ import annotations

import json
import sys

from aiohttp import web

PROGRESS = {
    "case_no": "（2026）粤0106民初22468号", "court": "粤0106", "court_name": "天河区人民法院", "cause": "买卖合同纠纷",
    "stage": "IN_TRIAL", "stage_label": "审理中", "filed_at": "2026-10-12T09:42:00+08:00", "judge": "李明华",
    "nodes": [{"code": "FILED", "label": "立案", "at": "2026-10-12T09:42:00+08:00"}],
    "next_hearing": None, "updated_at": "2026-11-20T10:00:00+08:00",
}
_PROGRESS = json.dumps(PROGRESS, ensure_ascii=False).encode()
_ACCESS = b'{"role": "plaintiff"}'


def make_app(jwks: bytes) -> web.Application:
    async def progress(_request: web.Request) -> web.Response:
        return web.Response(body=_PROGRESS, content_type="application/json")

    async def access(_request: web.Request) -> web.Response:
        return web.Response(body=_ACCESS, content_type="application/json")

    async def health(_request: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    async def keys(_request: web.Request) -> web.Response:
        return web.Response(body=jwks, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{prefix:.*}/progress", progress)
    app.router.add_get("/{prefix:.*}/access", access)
    app.router.add_get("/api/v1/health", health)
    app.router.add_get("/jwks", keys)
    return app


if __name__ == "__main__":
    port = int(sys.argv[1])
    jwks_file = sys.argv[2]
    with open(jwks_file, "rb") as handle:
        web.run_app(make_app(handle.read()), host="127.0.0.1", port=port, print=None, access_log=None)
