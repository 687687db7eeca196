"""The naive baseline of QUALITY.md: Starlette + httpx's default transport, the way a gateway is
usually first written. (The floor is the shared ``../shared/bench/floor_proxy.py``.)

Run as ``python bench/proxies.py naive PORT UPSTREAM_URL``.
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


if __name__ == "__main__":
    kind, port, upstream = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    {"naive": run_naive}[kind](port, upstream)
