"""Call control: what the hub asks of whatever carries the calls once a caller is in the hub.

Asterisk (telephony/ari_calls.py) rings the agent's phone and bridges it; the browser test
call (telephony/webcall.py) has no PBX and connects the agent's inbox instead."""

from __future__ import annotations

from typing import Protocol


class CallControl(Protocol):
    async def connect_agent(self, call_id: str, login: str, endpoint: str) -> bool:
        """Ring the agent (endpoint: e.g. PJSIP/1001 from the agent's profile) and bridge them
        with the caller, recording the talk. False: nobody answered (the call goes back to
        its queue)."""
        ...

    async def drop_agent(self, call_id: str) -> None:
        """The agent leaves the call (hang-up from the inbox); the caller stays for the survey."""
        ...

    async def hold(self, call_id: str, on: bool) -> None:
        """Hold music for the caller while the agent consults (on=False: back to talking)."""
        ...

    async def hangup(self, call_id: str) -> None:
        """End the whole call."""
        ...
