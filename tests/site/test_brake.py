"""The brakes on guessing: attempts counted before the check, atomically; a success given back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hypothesis import given
from hypothesis import strategies as st

from xxgk.site.security import Brake


def test_parallel_attempts_get_at_most_the_limit() -> None:
    brake = Brake(limit=5, window=300)
    with ThreadPoolExecutor(max_workers=32) as pool:
        allowed = list(pool.map(lambda _: brake.attempt("10.0.0.1"), range(200)))
    assert allowed.count(True) == 5 and brake.blocked("10.0.0.1")
    assert brake.attempt("10.0.0.2")  # another address has its own count


@given(st.lists(st.booleans(), max_size=40))
def test_successes_are_given_back(outcomes: list[bool]) -> None:
    """A run of attempts, each a success (True) or a failure: refused exactly when 3 failures stand."""
    brake = Brake(limit=3, window=300)
    failures = 0
    for success in outcomes:
        allowed = brake.attempt("a")
        assert allowed == (failures < 3)
        if allowed and success:
            brake.forgive("a")
        elif allowed:
            failures += 1
    assert brake.blocked("a") == (failures >= 3)
