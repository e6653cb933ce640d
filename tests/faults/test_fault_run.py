"""A short fault and load run (the long one is ``python -m faults``): nothing lost, half-stored or leaked."""

import logging

import pytest

from faults.__main__ import run_all


@pytest.fixture(autouse=True)
def _quiet_injected_faults(postgresql_database):
    """Needs PostgreSQL (skipped, or failed under POLYDATUM_REQUIRE_SERVICES, like every server test)."""
    logger = logging.getLogger("pyramid_polydatum")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def test_a_short_fault_run_in_process_and_under_waitress_and_gunicorn_loses_and_leaks_nothing():
    results = run_all(requests=280, threads=8, workers=2, modes=["in-process", "waitress", "gunicorn"])
    for mode, outcome in results.items():
        assert outcome.transport_errors == 0, mode
        assert outcome.unexpected_status == 0, (mode, outcome.statuses)
        assert outcome.crossed == 0, mode
        assert outcome.lost == 0 and outcome.partial == 0 and outcome.children == 0, mode
        assert outcome.idle_in_transaction == 0, mode
        assert outcome.checked_out in (0, None), mode
        assert sum(outcome.statuses.values()) == outcome.requests, mode
        assert {200, 500, 503} <= set(outcome.statuses), mode  # every kind of fault was exercised
