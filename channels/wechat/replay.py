"""Replay protection for signed callbacks: a window on the signed timestamp and a memory of
the (timestamp, nonce) pairs already used, with a digest of the body each one carried.

WeChat's callback signature covers only token, timestamp and nonce. Without these checks a
captured query string stays valid forever, and in plaintext mode it can carry any body.

Why memory in this process is enough (together with the MsgId / event-key dedupe that the
messages collection enforces with its unique key):
* an entry is needed only while its timestamp is inside the window, so the memory holds at
  most ten minutes of genuine traffic (a request must pass the signature check before it
  is remembered, so an outsider cannot fill it), bounded by `capacity` on top;
* a byte-identical repeat is let through on purpose: WeChat retries a callback with the same
  signature, timestamp and nonce, and the stored MsgId answers such a repeat with the first
  reply without storing or routing anything twice;
* what the memory must stop is a different body under a used nonce (plaintext mode), and
  that needs a triple captured less than five minutes ago. Lost memory (a restart, or a
  second hub process behind one URL) reopens that door only for triples captured in the
  five minutes before; with WECHAT_AES_KEY set the body is signed (msg_signature) and the
  door does not exist. Storing each nonce would add a database write to every message for
  that residue, so we don't.
"""

from __future__ import annotations

import heapq
import re

from primitives.clock import Clock

WINDOW_S = 300  # a callback whose timestamp is further than this from our clock is refused
CAPACITY = 200_000  # entries; ten minutes of traffic at over 300 messages a second
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class StaleRequest(Exception):
    """The signed timestamp is missing, not a number or outside the window."""


class ReusedNonce(Exception):
    """The (timestamp, nonce) pair was already used for a different body."""


class NonceMemory:
    def __init__(self, clock: Clock, *, window_s: int = WINDOW_S, capacity: int = CAPACITY) -> None:
        self._clock = clock
        self._window_s = window_s
        self._capacity = capacity
        self._seen: dict[tuple[int, str], bytes] = {}
        self._by_time: list[tuple[int, str]] = []  # heap: the oldest timestamp first

    def __len__(self) -> int:
        return len(self._seen)

    def check_time(self, timestamp: str) -> int:
        """The timestamp as seconds; raises StaleRequest if it is not within the window."""
        if not _TIMESTAMP.fullmatch(timestamp):
            raise StaleRequest("timestamp is missing or not a number")
        value = int(timestamp)
        if abs(self._now() - value) > self._window_s:
            raise StaleRequest(f"timestamp is more than {self._window_s} s away from our clock")
        return value

    def remember(self, timestamp: int, nonce: str, digest: bytes) -> None:
        """Note that (timestamp, nonce) carried a body with this digest. A repeat with the
        same digest passes (a retry); raises ReusedNonce for a different one."""
        self._expire()
        key = (timestamp, nonce)
        seen = self._seen.get(key)
        if seen is not None:
            if seen != digest:
                raise ReusedNonce("nonce already used for a different message")
            return
        self._seen[key] = digest
        heapq.heappush(self._by_time, key)
        while len(self._seen) > self._capacity:
            self._seen.pop(heapq.heappop(self._by_time), None)

    def _expire(self) -> None:
        oldest_valid = self._now() - self._window_s
        while self._by_time and self._by_time[0][0] < oldest_valid:
            self._seen.pop(heapq.heappop(self._by_time), None)

    def _now(self) -> int:
        return int(self._clock.now().timestamp())
