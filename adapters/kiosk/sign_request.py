"""Sign a kiosk request and print it as a curl command (a tool for kiosk vendors).

    python -m adapters.kiosk.sign_request --device EFT-TH-001 --key "$KEY" \\
        POST http://127.0.0.1:8080/channels/efating/sessions @card.json

BODY is literal JSON, ``@file`` (sent byte for byte), or left out (empty, as
for DELETE). The key may also come from ``--key-env VARIABLE``. ``--send``
sends the request too and prints the answer. A signature is good for 300
seconds and its nonce for one request: sign again for every call.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
import time
from pathlib import Path

import httpx

from adapters.kiosk.protocol import sign


def signed_headers(device: str, key: bytes, method: str, url: str, body: bytes, *,
                   timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    path = httpx.URL(url).raw_path.decode("ascii")  # percent-encoded, exactly as it goes on the wire
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    once = nonce or secrets.token_hex(16)
    headers = {
        "X-Device-Id": device,
        "X-Device-Timestamp": stamp,
        "X-Device-Nonce": once,
        "X-Device-Signature": sign(key, method, path, stamp, once, body),
    }
    if body:
        headers["Content-Type"] = "application/json"
    return headers


def curl_command(method: str, url: str, headers: dict[str, str], body_arg: str | None) -> str:
    parts = ["curl", "-sS", "-X", method.upper(), url]
    for name, value in headers.items():
        parts.extend(["-H", f"{name}: {value}"])
    if body_arg:
        parts.extend(["--data-binary", body_arg])
    return " ".join(shlex.quote(part) for part in parts)


def _body(arg: str | None) -> bytes:
    if not arg:
        return b""
    if arg.startswith("@"):
        return Path(arg[1:]).read_bytes()
    return arg.encode("utf-8")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adapters.kiosk.sign_request",
                                     description="Sign a kiosk request (X-Device-* headers) and print a curl command.")
    parser.add_argument("--device", required=True, help="the device id (X-Device-Id)")
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument("--key", help="the device key")
    key.add_argument("--key-env", help="environment variable holding the device key")
    parser.add_argument("--send", action="store_true", help="send the request and print the answer")
    parser.add_argument("method", help="POST or DELETE")
    parser.add_argument("url", help="full URL, e.g. http://127.0.0.1:8080/channels/efating/sessions")
    parser.add_argument("body", nargs="?", help="JSON text, or @file; empty when left out")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    key = args.key if args.key is not None else os.environ.get(args.key_env, "")
    if not key:
        print(f"environment variable {args.key_env} is empty", file=sys.stderr)
        return 2
    body = _body(args.body)
    url = str(httpx.URL(args.url))
    headers = signed_headers(args.device, key.encode("utf-8"), args.method, url, body)
    if not args.send:
        print(curl_command(args.method, url, headers, args.body))
        return 0
    answer = httpx.request(args.method.upper(), url, headers=headers, content=body, timeout=30)
    print(f"HTTP {answer.status_code}", file=sys.stderr)
    print(answer.text)
    return 0 if answer.is_success else 1


if __name__ == "__main__":
    raise SystemExit(main())
