"""Every adapter's ``protocol.py`` is pure wire code: importing it, in a fresh interpreter, loads no
web framework, state store client or HTTP client, whatever it imports on the way (its package's
``__init__``, the gateway's published names). Any adapter package under ``adapters/`` is checked,
including ones added after this test was written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = sorted(path.parent.name for path in (ROOT / "adapters").glob("*/protocol.py"))
FORBIDDEN = ("starlette", "redis", "httpx", "aiohttp", "uvicorn")

#: Imports the module and prints, for each forbidden package loaded, the project files on the
#: stack when it was first imported (so a failure names the import that brought it in).
_PROBE = """
import importlib, json, sys, traceback
forbidden, module, root = json.loads(sys.argv[1])
chains = {}
class Tripwire:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in forbidden and top not in chains:
            chains[top] = [f"{f.filename[len(root) + 1:]}:{f.lineno}" for f in traceback.extract_stack()
                           if f.filename.startswith(root)]
        return None
sys.meta_path.insert(0, Tripwire())
importlib.import_module(module)
loaded = {top: chain for top, chain in chains.items() if top in sys.modules}
print(json.dumps(loaded))
"""


def test_the_adapters_are_found() -> None:
    assert {"wechat", "kiosk", "ivr12368"} <= set(PROTOCOLS)


@pytest.mark.parametrize("adapter", PROTOCOLS)
def test_protocol_imports_no_web_framework_state_store_or_http_client(adapter: str) -> None:
    argument = json.dumps([FORBIDDEN, f"adapters.{adapter}.protocol", str(ROOT)])
    probe = subprocess.run([sys.executable, "-c", _PROBE, argument], capture_output=True, text=True, cwd=ROOT,
                           timeout=60, check=False)
    assert probe.returncode == 0, probe.stderr
    loaded: dict[str, list[str]] = json.loads(probe.stdout)
    assert loaded == {}, f"adapters/{adapter}/protocol.py loads {sorted(loaded)}, through: {loaded}"
