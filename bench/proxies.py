"""The baselines of QUALITY.md, each a pass-through proxy to the upstream.

- ``naive``: Starlette + httpx's default transport, the way a gateway is usually first written.
- ``aiohttp``: a bare aiohttp server and client pass-through: the floor for a Python proxy.

Run as ``python bench/proxies.py KIND PORT UPSTREAM_URL``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette


def naive_app(upstream: str) -> Starlette:
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    client = httpx.AsyncClient(base_url=upstream)

    async def proxy(request: Request) -> Response:
        answer = await client.get(request.url.path,
                                  headers={"authorization": request.headers.get("authorization", "")})
        return Response(answer.content, status_code=answer.status_code, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", proxy)])


def run_naive(port: int, upstream: str) -> None:
    import uvicorn

    uvicorn.run(naive_app(upstream), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def run_aiohttp(port: int, upstream: str) -> None:
    import aiohttp
    from aiohttp import web

    async def make() -> web.Application:
        session: aiohttp.ClientSession | None = None

        async def proxy(request: web.Request) -> web.Response:
            nonlocal session
            if session is None:
                session = aiohttp.ClientSession(upstream)
            async with session.get(request.path, headers={"authorization": request.headers.get("authorization", "")}
                                   ) as answer:
                body = await answer.read()
            return web.Response(body=body, status=answer.status, content_type="application/json")

        app = web.Application()
        app.router.add_get("/{path:.*}", proxy)
        return app

    web.run_app(make(), host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    kind, port, upstream = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    {"naive": run_naive, "aiohttp": run_aiohttp}[kind](port, upstream)
