"""Every reliability test runs on one Redis and on a 3-primary Redis Cluster (QUALITY.md reliability 10)."""

from __future__ import annotations

import pytest

from tests.reliability.support import TOPOLOGIES


@pytest.fixture(params=TOPOLOGIES)
def topology(request: pytest.FixtureRequest) -> str:
    return str(request.param)
