"""Send one signed 穗好办 envelope, as the city app would, and print the answer.

    python -m adapters.suihaoban.client --app shb-gz-court --secret S courts.list
    python -m adapters.suihaoban.client --app shb-gz-court --secret S --ticket shb-demo-zhangwei \\
        cases.progress '{"case_no": "（2026）粤0106民初22468号"}'

For trying the channel by hand (``court-gateway demo`` prints ready lines) and
for an app engineer comparing signatures with their own implementation
(``--show`` prints the string that was signed).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time

import httpx

from adapters.suihaoban import protocol


def envelope(app_id: str, method: str, biz_content: str, *, secret: bytes, sign_type: str = "HMAC-SHA256",
             ticket: str | None = None, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """A signed envelope (also what the test driver sends)."""
    fields = {"appId": app_id, "method": method, "timestamp": str(timestamp or int(time.time())),
              "nonceStr": nonce or secrets.token_hex(16), "bizContent": biz_content}
    if ticket:
        fields["userTicket"] = ticket
    return protocol.signed_fields(fields, sign_type, secret)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m adapters.suihaoban.client", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("method", help="the operation id (cases.progress ...)")
    parser.add_argument("biz_content", nargs="?", default="{}", help="the arguments as a JSON object")
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--channel", default="suihaoban")
    parser.add_argument("--app", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--sign-type", choices=sorted(protocol.SIGN_TYPES), default="HMAC-SHA256")
    parser.add_argument("--ticket")
    parser.add_argument("--show", action="store_true", help="print the string to sign")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    signed = envelope(args.app, args.method, args.biz_content, secret=args.secret.encode("utf-8"),
                      sign_type=args.sign_type, ticket=args.ticket)
    if args.show:
        print(protocol.string_to_sign(signed).decode("utf-8"), file=sys.stderr)
    answer = httpx.post(f"{args.gateway.rstrip('/')}/channels/{args.channel}/invoke", json=signed)
    print(answer.status_code, answer.text)
    return 0 if answer.status_code == 200 and answer.json().get("resultCode") == "0000" else 1


if __name__ == "__main__":
    raise SystemExit(main())
