"""Small helpers the channel tests share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cases.desk import CaseDesk
from cases.model import NewCase
from cases.workflow import CaseAction, CaseCommand
from primitives.ids import new_id
from routing.conversation_model import Conversation
from routing.messages import SenderKind
from routing.outbox import Outbox


async def eventually(check: Callable[[], Awaitable[Any]], timeout_s: float = 10) -> Any:
    """check()'s first truthy result, polled every 50 ms; fails after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not (result := await check()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
    return result


async def agent_says(outbox: Outbox, conv: Conversation, text: str) -> str:
    """Send text to the conversation's customer as agent1 through the outbox; waits for the
    delivery attempts to finish and returns the message id."""
    message_id = new_id()
    await outbox.send(
        conv,
        text,
        sender=SenderKind.AGENT,
        sender_id="agent1",
        external_id=f"agent:{message_id}",
        message_id=message_id,
    )
    await outbox.drain()
    return message_id


async def complete_case(desk: CaseDesk, new: NewCase, reply: str) -> str:
    """Open `new` and take it through accept, dispatch (to water), confirm and reply, as the
    centre's agent1 and the department's water1 would; returns the case number."""
    case = await desk.open(new, "agent1")
    for cmd in (
        CaseCommand(CaseAction.ACCEPT, "agent1"),
        CaseCommand(CaseAction.DISPATCH, "agent1", department="water"),
        CaseCommand(CaseAction.CONFIRM, "water1"),
        CaseCommand(CaseAction.REPLY, "water1", reply=reply),
    ):
        await desk.act(case.number, cmd)
    return case.number
