"""A worked example of a court-gateway channel adapter, packaged on its own (docs/adapters.md).

court-gateway finds it through the entry point ``court_gateway.adapters`` -> :data:`ADAPTER`.
"""

from example_terminal.adapter import ExampleTerminalAdapter

ADAPTER = ExampleTerminalAdapter

__all__ = ["ADAPTER", "ExampleTerminalAdapter"]
