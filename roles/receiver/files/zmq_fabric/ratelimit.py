"""Log lines that cannot flood: at most one per interval, with a suppressed count."""

import logging
import time


class RateLimitedLog:
    def __init__(self, logger: logging.Logger, interval: float = 10.0,
                 level: int = logging.WARNING):
        self._logger = logger
        self._interval = interval
        self._level = level
        self._next = 0.0
        self._suppressed = 0

    def __call__(self, fmt: str, *args) -> None:
        now = time.monotonic()
        if now < self._next:
            self._suppressed += 1
            return
        if self._suppressed:
            fmt += " (%d similar events suppressed)"
            args += (self._suppressed,)
        self._logger.log(self._level, fmt, *args)
        self._next = now + self._interval
        self._suppressed = 0
