"""The web UI's login check, throttled: a lock-out after repeated wrong passwords."""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException

log = logging.getLogger(__name__)

OTHER_USERS = "<unknown user>"  # every wrong user name shares one counter, so guessing names gains nothing


@dataclass
class _Record:
    failures: int = 0  # wrong passwords since the last success or lock-out
    lockouts: int = 0  # lock-outs in a row; each one lasts twice as long as the one before
    locked_until: float = 0.0


class LoginThrottle:
    """gradio's `auth=` callable for one user: wrong passwords slow down, then lock the name out.

    After `max_failures` wrong passwords for a name, every attempt for that name (a right password
    too) is refused with HTTP 429 for `lockout_s`, doubling with each further lock-out up to
    `max_lockout_s`; a successful login resets the count. The decision is made before the first
    `await`, so parallel requests cannot slip past the count. Each failure also waits
    `delay_s * failures` before answering (without blocking the server's event loop).
    """

    def __init__(
        self,
        user: str,
        password: str,
        *,
        max_failures: int = 5,
        lockout_s: float = 30.0,
        max_lockout_s: float = 900.0,
        delay_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._user, self._password = user, password
        self.max_failures, self.lockout_s, self.max_lockout_s, self.delay_s = (
            max_failures,
            lockout_s,
            max_lockout_s,
            delay_s,
        )
        self._clock = clock
        self._records: dict[str, _Record] = {}

    def _matches(self, username: str, password: str) -> tuple[bool, bool]:
        user_ok = hmac.compare_digest(username.encode(), self._user.encode())
        password_ok = hmac.compare_digest(password.encode(), self._password.encode())
        return user_ok, user_ok and password_ok

    def attempt(self, username: str, password: str) -> tuple[bool, float]:
        """Record one attempt: (accepted, seconds to wait before answering); raises HTTP 429 when locked out."""
        user_ok, accepted = self._matches(username, password)
        key = self._user if user_ok else OTHER_USERS
        record = self._records.setdefault(key, _Record())
        now = self._clock()
        if record.locked_until > now:
            wait = math.ceil(record.locked_until - now)
            raise HTTPException(
                status_code=429,
                detail=f"Too many failed logins: try again in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        if accepted:
            self._records[key] = _Record()
            return True, 0.0
        record.failures += 1
        failures = record.failures
        if failures >= self.max_failures:
            duration = min(self.lockout_s * 2**record.lockouts, self.max_lockout_s)
            record.locked_until, record.failures = now + duration, 0
            record.lockouts += 1
            log.warning("login locked for %.0f s after %d failed attempts", duration, failures)
        return False, self.delay_s * failures

    async def login(self, username: str, password: str) -> bool:
        """Check a login (pass this bound method as gradio's `auth=`; gradio awaits it)."""
        accepted, wait = self.attempt(username, password)
        if wait:
            await asyncio.sleep(wait)
        return accepted
