"""A config reload (SIGHUP) cannot change how the state store is reached: that needs a restart."""

from __future__ import annotations

from pathlib import Path

from tests.support.stack import running_stack, stack_config


async def test_a_reload_that_changes_the_state_settings_is_refused(tmp_path: Path) -> None:
    async with running_stack() as stack:
        path = tmp_path / "channels.yaml"
        same = stack_config(stack.court_root, stack.issuer)
        path.write_text(same, encoding="utf-8")
        assert await stack.host.reload(path, env=stack.env)
        changed = stack_config(stack.court_root, stack.issuer, extra={"gateway": {"state_username": "other"}})
        path.write_text(changed, encoding="utf-8")
        assert not await stack.host.reload(path, env=stack.env)
        assert stack.host.config.gateway.state_username is None
