"""Send one signed 粤省事 request, as the platform would, and print the answer.

    python -m adapters.yueshengshi.client --app yss-gz-court --secret S login '{"code": "yss-demo-zhangwei"}'
    python -m adapters.yueshengshi.client --app yss-gz-court --secret S --user-token T \\
        gateway/cases.progress '{"case_no": "（2026）粤0106民初22468号"}'

For trying the channel by hand (``court-gateway demo`` prints ready lines) and
for a platform engineer comparing signatures with their own implementation
(``--show`` prints the string that was signed).
"""

from __future__ import annotations

import argparse
import secrets
import string
import sys
import time

import httpx

from adapters.yueshengshi import protocol

_NONCE_ALPHABET = string.ascii_letters + string.digits


def new_nonce() -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(protocol.NONCE_LENGTH))


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m adapters.yueshengshi.client", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("route", help="login, logout or gateway/<operation_id>")
    parser.add_argument("body", nargs="?", default="{}", help="JSON body (default {})")
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--channel", default="yueshengshi")
    parser.add_argument("--app", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--algorithm", choices=["hmac-sm3", "hmac-sha256"], default="hmac-sm3")
    parser.add_argument("--user-token")
    parser.add_argument("--show", action="store_true", help="print the string to sign")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    path = f"/channels/{args.channel}/{args.route}"
    url = httpx.URL(args.gateway.rstrip("/") + path)
    body = args.body.encode("utf-8")
    headers = protocol.signing_headers(args.algorithm, args.secret.encode("utf-8"), args.app, "POST",
                                       url.raw_path, body, int(time.time() * 1000), new_nonce())
    if args.show:
        signed = protocol.string_to_sign("POST", url.raw_path, headers["X-Dgi-Req-Timestamp"],
                                         headers["X-Dgi-Req-Nonce"], protocol.body_digest(args.algorithm, body))
        print(signed.decode("utf-8"), file=sys.stderr)
    if args.user_token:
        headers["X-Dgi-User-Token"] = args.user_token
    headers["Content-Type"] = "application/json"
    answer = httpx.post(url, content=body, headers=headers)
    print(answer.status_code, answer.text)
    return 0 if answer.status_code == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
