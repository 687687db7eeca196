"""Real servers on loopback for tests: the gateway, the reference court and a token issuer come from
workbench/stack.py (``court-gateway verify-adapter`` starts the same ones); private Redis processes
from tests/support/redis_servers.py."""

from __future__ import annotations

from tests.support.redis_servers import RedisServer
from workbench.ports import free_port
from workbench.stack import (
    NO_SMS_URL,
    Issuer,
    Stack,
    merged,
    running_stack,
    serving,
    stack_config,
    stack_env,
)

__all__ = ["NO_SMS_URL", "Issuer", "RedisServer", "Stack", "free_port", "merged", "running_stack", "serving",
           "stack_config", "stack_env"]
