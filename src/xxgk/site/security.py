"""Secrets of the site: unit tokens, the office password, CSRF tokens and the brakes on guessing.

Unit tokens carry 256 random bits and are stored only as their SHA-256 (a token that long
needs no slow hash); the office password is stored as an scrypt hash.  Every comparison of a
secret is constant-time.  CSRF tokens are HMACs of what the form belongs to (a unit, an
office session), keyed by a secret kept in the database, so they survive a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

TOKEN_BYTES = 32
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_password() -> str:
    """Easy to type from a printout: 4 groups of 4 letters and digits without look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        found = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=bytes.fromhex(salt), dklen=32,
                               n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(found.hex(), digest)


def csrf_token(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: str, purpose: str, given: str) -> bool:
    return same(csrf_token(secret, purpose), given)


class Brake:
    """Failed attempts per client address: ``limit`` within ``window`` seconds and that address is
    refused until its oldest failure leaves the window.

    An attempt is counted *before* the secret is checked (`attempt`), atomically, so parallel
    guesses cannot all slip past the limit while the first ones are still being checked; a
    success gives its count back (`forgive`)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, at: float) -> deque[float]:
        times = self._failures.setdefault(address, deque())
        while times and times[0] <= at - self.window:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        with self._lock:
            times = self._recent(address, time.monotonic())
            if not times:
                self._failures.pop(address, None)
            return len(times) >= self.limit

    def attempt(self, address: str) -> bool:
        """Count one attempt from ``address`` as a failure; False (nothing counted) when the
        address is already at its limit: refuse it without checking anything."""
        with self._lock:
            at = time.monotonic()
            times = self._recent(address, at)
            if len(times) >= self.limit:
                return False
            times.append(at)
            self._forget_quiet(at)
            return True

    def forgive(self, address: str) -> None:
        """The attempt counted last for ``address`` succeeded: it is not a failure."""
        with self._lock:
            times = self._failures.get(address)
            if times:
                times.pop()

    def _forget_quiet(self, at: float) -> None:
        if len(self._failures) > 100_000:  # a flood of addresses: forget the quiet ones
            for key in [k for k, v in self._failures.items() if not v or v[-1] <= at - self.window]:
                del self._failures[key]
