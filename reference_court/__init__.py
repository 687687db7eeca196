"""The reference court backend: every Guangzhou court behind one Starlette app (CONTRACTS.md section 5).

Used by the gateway's demo and tests, and by court IT to compare their own
system against (``court-gateway reference-court``, ``court-gateway verify-backend``).
"""

from reference_court.app import create_reference_court, run_reference_court
from reference_court.events import make_event, sign_event, verify_event_signature
from reference_court.routing import court_base_url, court_slug
from reference_court.seed import (
    DEMO_CASES,
    DEMO_PASSWORDS,
    DEMO_PEOPLE,
    DemoPerson,
    SeedData,
    SeedError,
    default_seed,
    demo_summary,
    load_seed,
)
from reference_court.verify import (
    CheckResult,
    Participant,
    format_results,
    run_verify_backend_cli,
    serve_jwks,
    verify_backend,
)

__all__ = [
    "DEMO_CASES",
    "DEMO_PASSWORDS",
    "DEMO_PEOPLE",
    "CheckResult",
    "DemoPerson",
    "Participant",
    "SeedData",
    "SeedError",
    "court_base_url",
    "court_slug",
    "create_reference_court",
    "default_seed",
    "demo_summary",
    "format_results",
    "load_seed",
    "make_event",
    "run_reference_court",
    "run_verify_backend_cli",
    "serve_jwks",
    "sign_event",
    "verify_backend",
    "verify_event_signature",
]
