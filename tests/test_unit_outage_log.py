"""Background loops log a database outage once, when it starts and when it ends."""

from __future__ import annotations

import logging

import pytest

from infra.outage_log import OutageLog


def _fail(log: OutageLog, error: Exception) -> None:
    try:
        raise error
    except Exception:
        log.failed("delivery pass")


def test_an_outage_is_one_line_each_way_and_a_bug_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.outage")
    log = OutageLog(logger, "mail worker w1")
    with caplog.at_level(logging.INFO, logger="tests.outage"):
        for _ in range(5):
            _fail(log, ConnectionRefusedError("connection refused"))
        log.succeeded()
        log.succeeded()
        _fail(log, ValueError("a bug"))
    lines = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert lines == [
        (
            "WARNING",
            "mail worker w1: database unreachable (ConnectionRefusedError('connection refused'))"
            "; retrying",
            False,
        ),
        ("WARNING", "mail worker w1: database reachable again", False),
        ("ERROR", "mail worker w1: delivery pass failed", True),
    ]
