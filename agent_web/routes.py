"""Everything the agents' inbox adds to the hub's app: routes, and the objects they share.

hub/app.py calls add_routes(app) while building the app and appends open_inbox to its
cleanup contexts after the database and routing ones (it needs both).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from agent_web import (
    admin_api,
    agent_socket,
    auth_api,
    canned_api,
    case_workbench_api,
    cases_api,
    catalogue_api,
    conversation_api,
    inbox_api,
    kb_admin_api,
    metrics,
    pages,
    screen_pop,
    supervisor_api,
)
from agent_web.canned import CannedReplyRepository
from agent_web.keys import (
    AGENTS,
    CANNED_REPLIES,
    CLOCK,
    EVENTS,
    LOGIN_GUARD,
    OFFERS,
    SESSIONS,
    SOCKETS,
)
from agent_web.login_guard import LoginGuard
from agent_web.offer_book import OfferBook
from agent_web.sessions import SessionDesk, SessionRepository
from agent_web.sockets import SocketRegistry
from routing.agents import AgentRepository


def add_routes(app: web.Application) -> None:
    app[SOCKETS] = SocketRegistry()
    app[OFFERS] = OfferBook()
    for module in (
        auth_api,
        inbox_api,
        conversation_api,
        screen_pop,
        cases_api,
        case_workbench_api,
        catalogue_api,
        canned_api,
        supervisor_api,
        admin_api,
        kb_admin_api,
        agent_socket,
        pages,
        metrics,
    ):
        module.add_routes(app)


async def open_inbox(
    app: web.Application,
    *,
    sessions: SessionRepository,
    agents: AgentRepository,
    canned: CannedReplyRepository,
) -> AsyncIterator[None]:
    """Cleanup context: the repositories the inbox uses, and the offer book on the bus."""
    app[SESSIONS] = SessionDesk(sessions, app[CLOCK])
    app[LOGIN_GUARD] = LoginGuard(app[CLOCK])
    app[AGENTS] = agents
    app[CANNED_REPLIES] = canned
    app[OFFERS].watch(app[EVENTS])
    yield
    app[OFFERS].close()
