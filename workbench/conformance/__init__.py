"""The adapter conformance checks of CONTRACTS.md section 4.6, as a library.

``court-gateway verify-adapter NAME`` (workbench/verify.py) and the shared channel suites
(tests/channels/) run the same checks: parity of results with the canonical API, every error
code in the channel's format and HTTP status, idempotency key handling, no personal data in logs.
"""

from __future__ import annotations

from workbench.conformance.checks import CHECKS, Check, CheckFailed, Probe, error_cases
from workbench.conformance.run import CheckResult, conformance_overrides, run_checks

__all__ = ["CHECKS", "Check", "CheckFailed", "CheckResult", "Probe", "conformance_overrides", "error_cases",
           "run_checks"]
