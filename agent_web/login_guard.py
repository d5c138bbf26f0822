"""Sign-in throttling: exponential backoff per client address and per login, in memory.

A hard per-account lock lets anyone lock an agent out, so wrong passwords throttle the
address that sends them. The per-login count still matters against guessing one account
from many addresses: once a login is in backoff, every address that tries it must wait out
that backoff after its attempt (its own free attempts are waived), but a correct password
from an address that is not itself throttled still signs in.

Every attempt is reserved before the password is verified, with no await between the check
and the reservation, so concurrent attempts never evaluate more guesses than the budget.
Unknown and known logins are treated alike (no enumeration) and nothing is written to the
database; both tables are bounded.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from primitives.clock import Clock
from primitives.errors import HubError


class LoginThrottled(HubError):
    """Too many sign-in attempts: this address must wait retry_after_s seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"尝试次数过多，请{retry_after_s}秒后再试")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Backoff:
    free_attempts: int
    first_delay_s: float = 1.0
    max_delay_s: float = 300.0

    def delay_after(self, attempts: int) -> float:
        """Seconds to wait after `attempts` attempts: 0 while free, then 1, 2, 4 … capped."""
        if attempts < self.free_attempts:
            return 0.0
        doublings = min(attempts - self.free_attempts, 32)
        return min(self.max_delay_s, self.first_delay_s * 2**doublings)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    per_address: Backoff = Backoff(free_attempts=5)
    # higher than per address: an account is tried from several desks (and by its owner)
    per_login: Backoff = Backoff(free_attempts=10)
    forget_after_s: float = 900.0  # a key quiet this long starts over
    max_keys: int = 10_000  # per table; the least recently tried key is dropped first


@dataclass(frozen=True, slots=True)
class _Count:
    attempts: int
    last_at: datetime
    next_at: datetime  # no attempt before this


@dataclass(frozen=True, slots=True)
class Attempt:
    """A reserved sign-in attempt: what to put back if it turns out not to count."""

    address: str
    login: str
    address_before: _Count | None = field(repr=False)
    address_after: _Count = field(repr=False)
    login_before: _Count | None = field(repr=False)
    login_after: _Count = field(repr=False)


class _Table:
    """Attempt counts by key, bounded, least recently tried first."""

    def __init__(self, max_keys: int, forget_after_s: float) -> None:
        self._counts: OrderedDict[str, _Count] = OrderedDict()
        self._max_keys = max_keys
        self._forget_after = timedelta(seconds=forget_after_s)

    def get(self, key: str, now: datetime) -> _Count | None:
        count = self._counts.get(key)
        if count is None or now - count.last_at >= self._forget_after:
            return None
        return count

    def put(self, key: str, count: _Count) -> None:
        self._counts[key] = count
        self._counts.move_to_end(key)
        while len(self._counts) > self._max_keys:
            self._counts.popitem(last=False)
        self._forget_stale(count.last_at)

    def restore(self, key: str, ours: _Count, before: _Count | None) -> None:
        """Undo our reservation: exactly if nobody counted since, else take one attempt off."""
        current = self._counts.get(key)
        if current is None:
            return
        if current is not ours:
            self._counts[key] = replace(current, attempts=max(0, current.attempts - 1))
        elif before is None:
            del self._counts[key]
        else:
            self._counts[key] = before

    def forget(self, key: str) -> None:
        self._counts.pop(key, None)

    def __len__(self) -> int:
        return len(self._counts)

    def _forget_stale(self, now: datetime) -> None:
        while self._counts:
            oldest = next(iter(self._counts.values()))
            if now - oldest.last_at < self._forget_after:
                return
            self._counts.popitem(last=False)


class LoginGuard:
    def __init__(self, clock: Clock, policy: ThrottlePolicy | None = None) -> None:
        self._clock = clock
        self.policy = policy or ThrottlePolicy()
        self._addresses = _Table(self.policy.max_keys, self.policy.forget_after_s)
        self._logins = _Table(self.policy.max_keys, self.policy.forget_after_s)

    def reserve(self, address: str, login: str) -> Attempt:
        """Count one attempt before the password is checked.

        Raises LoginThrottled (nothing counted) while the address must wait."""
        now = self._clock.now()
        key = address_key(address)
        address_before = self._addresses.get(key, now)
        if address_before is not None and now < address_before.next_at:
            raise LoginThrottled(_whole_seconds(address_before.next_at - now))
        login_before = self._logins.get(login, now)
        login_after = _counted(login_before, now, self.policy.per_login)
        address_after = _counted(address_before, now, self.policy.per_address)
        if login_before is not None and now < login_before.next_at:
            # The login is in backoff: this address may try, then waits the backoff out.
            address_after = replace(
                address_after, next_at=max(address_after.next_at, login_after.next_at)
            )
        self._addresses.put(key, address_after)
        self._logins.put(login, login_after)
        return Attempt(key, login, address_before, address_after, login_before, login_after)

    def succeeded(self, attempt: Attempt) -> None:
        """The right password: the attempt costs the address nothing and the login starts over."""
        self._addresses.restore(attempt.address, attempt.address_after, attempt.address_before)
        self._logins.forget(attempt.login)

    def release(self, attempt: Attempt) -> None:
        """The attempt was never decided (the database failed): give it back."""
        self._addresses.restore(attempt.address, attempt.address_after, attempt.address_before)
        self._logins.restore(attempt.login, attempt.login_after, attempt.login_before)

    def tracked(self) -> tuple[int, int]:
        """How many (addresses, logins) are remembered."""
        return len(self._addresses), len(self._logins)


def address_key(address: str) -> str:
    """The throttled unit: an IPv4 address, or the /64 an IPv6 host gets from its provider."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _counted(count: _Count | None, now: datetime, backoff: Backoff) -> _Count:
    attempts = (count.attempts if count else 0) + 1
    wait = timedelta(seconds=backoff.delay_after(attempts))
    return _Count(attempts=attempts, last_at=now, next_at=now + wait)


def _whole_seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))
