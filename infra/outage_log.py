"""One line per outage of the database, not a traceback per retry.

Background loops (the delivery worker, its chores) retry every second or so while the
database is down; a traceback each time buries the log. An unreachable database is logged
once when it goes and once when it is back; any other failure keeps its traceback.
"""

from __future__ import annotations

import logging
import sys

from models.db import UNAVAILABLE


class OutageLog:
    def __init__(self, logger: logging.Logger, name: str) -> None:
        self.logger = logger
        self.name = name
        self.down = False

    def failed(self, what: str) -> None:
        """Call from an `except` block: `what` failed with the exception being handled."""
        error = sys.exc_info()[1]
        if not isinstance(error, UNAVAILABLE):
            self.logger.exception("%s: %s failed", self.name, what)
        elif not self.down:
            self.down = True
            self.logger.warning("%s: database unreachable (%r); retrying", self.name, error)

    def succeeded(self) -> None:
        if self.down:
            self.down = False
            self.logger.warning("%s: database reachable again", self.name)
