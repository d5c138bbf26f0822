import pytest

from agent_web.login_guard import (
    Backoff,
    LoginGuard,
    LoginThrottled,
    ThrottlePolicy,
    address_key,
)
from primitives.clock import FixedClock


def wait_of(guard: LoginGuard, address: str, login: str) -> int:
    """The Retry-After of a refused attempt; 0 when the attempt was admitted (and counted)."""
    try:
        guard.reserve(address, login)
    except LoginThrottled as e:
        return e.retry_after_s
    return 0


def test_the_wait_starts_after_the_free_attempts_and_doubles_up_to_the_cap():
    backoff = Backoff(free_attempts=5, first_delay_s=1, max_delay_s=300)
    assert [backoff.delay_after(n) for n in range(1, 16)] == [
        0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300,
    ]  # fmt: skip
    assert backoff.delay_after(10_000) == 300


def test_an_address_gets_its_free_attempts_then_must_wait():
    clock = FixedClock()
    guard = LoginGuard(clock)
    assert [wait_of(guard, "10.0.0.1", "agent1") for _ in range(6)] == [0, 0, 0, 0, 0, 1]
    clock.advance(seconds=1)
    assert wait_of(guard, "10.0.0.1", "agent1") == 0
    assert wait_of(guard, "10.0.0.1", "agent1") == 2


def test_refused_attempts_do_not_lengthen_the_wait():
    clock = FixedClock()
    guard = LoginGuard(clock)
    for _ in range(5):
        guard.reserve("10.0.0.1", "agent1")
    assert [wait_of(guard, "10.0.0.1", "agent1") for _ in range(50)] == [1] * 50
    clock.advance(seconds=1)
    assert wait_of(guard, "10.0.0.1", "agent1") == 0


def test_wrong_passwords_throttle_the_address_not_the_account():
    guard = LoginGuard(FixedClock())
    for _ in range(5):
        guard.reserve("10.0.0.1", "agent1")
    assert wait_of(guard, "10.0.0.1", "agent1") == 1
    assert wait_of(guard, "10.0.0.2", "agent1") == 0


def test_a_login_in_backoff_makes_each_address_wait_after_one_try():
    guard = LoginGuard(FixedClock())
    for n in range(10):  # the login's free attempts, spent from two addresses
        guard.reserve(f"10.0.0.{n % 2}", "agent1")
    assert wait_of(guard, "10.0.1.1", "agent1") == 0  # may try: a real agent would get in
    assert wait_of(guard, "10.0.1.1", "agent1") == 2  # but then waits out the login's backoff
    assert wait_of(guard, "10.0.1.1", "agent2") == 2  # whichever login it tries next


def test_a_right_password_costs_the_address_nothing_and_resets_the_login():
    clock = FixedClock()
    guard = LoginGuard(clock)
    for _ in range(4):
        guard.reserve("10.0.0.1", "agent1")
    guard.succeeded(guard.reserve("10.0.0.1", "agent1"))
    assert wait_of(guard, "10.0.0.1", "agent2") == 0  # the 5th counted attempt, still free
    assert wait_of(guard, "10.0.0.1", "agent2") == 1
    for n in range(10):
        guard.reserve(f"10.0.1.{n}", "agent3")
    guard.succeeded(guard.reserve("10.0.2.1", "agent3"))
    assert wait_of(guard, "10.0.2.1", "agent3") == 0  # no backoff left on agent3
    assert wait_of(guard, "10.0.2.1", "agent3") == 0


def test_an_undecided_attempt_is_given_back():
    guard = LoginGuard(FixedClock())
    for _ in range(4):
        guard.reserve("10.0.0.1", "agent1")
    guard.release(guard.reserve("10.0.0.1", "agent1"))  # the database was down
    assert wait_of(guard, "10.0.0.1", "agent1") == 0
    assert wait_of(guard, "10.0.0.1", "agent1") == 1


def test_a_quiet_address_starts_over():
    clock = FixedClock()
    guard = LoginGuard(clock)
    for _ in range(12):
        clock.advance(seconds=300)
        guard.reserve("10.0.0.1", "agent1")
    clock.advance(seconds=900)
    assert [wait_of(guard, "10.0.0.1", "agent1") for _ in range(6)] == [0, 0, 0, 0, 0, 1]


def test_hosts_of_one_ipv6_64_share_a_budget():
    guard = LoginGuard(FixedClock())
    for host in range(5):
        guard.reserve(f"2001:db8:1:2::{host + 1}", "agent1")
    assert wait_of(guard, "2001:db8:1:2:ffff::9", "agent1") == 1
    assert wait_of(guard, "2001:db8:1:3::1", "agent1") == 0


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("2001:db8::1", "2001:db8::/64"),
        ("not an address", "not an address"),
    ],
)
def test_the_throttled_unit_of_an_address(address: str, key: str):
    assert address_key(address) == key


def test_the_guard_remembers_a_bounded_number_of_keys():
    guard = LoginGuard(FixedClock(), ThrottlePolicy(max_keys=100))
    for n in range(1000):
        guard.reserve(f"10.0.{n // 256}.{n % 256}", f"ghost{n}")
    assert guard.tracked() == (100, 100)
