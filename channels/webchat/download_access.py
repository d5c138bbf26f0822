"""Which staff may download a citizen's upload: those who may read a conversation it was
sent in, by the inbox's own rule (agent_web.access.may_view: the serving agent, invited
participants, supervisors and admins). Department users may not: uploads are not linked to
the cases dispatched to them."""

from __future__ import annotations

from agent_web.access import may_view
from agent_web.auth import Caller
from channels.webchat.records import Upload
from routing.assignment import Acd
from routing.errors import ConversationNotFound
from routing.router import Router


async def staff_may_download(router: Router, acd: Acd, caller: Caller, upload: Upload) -> bool:
    for conversation_id in upload.conversations:
        try:
            conv = await router.conversation(conversation_id)
        except ConversationNotFound:
            continue
        if await may_view(router, acd, caller, conv):
            return True
    return False
