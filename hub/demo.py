"""Demo data for `hub demo`: departments, agents with skills and logins, and the bot data."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent_web.canned import CannedReply, checked_fields
from agent_web.passwords import hash_password
from cases.departments import Department
from hub.settings import DATA_DIR
from mongo.canned_replies import MongoCannedReplyRepository
from mongo.client import Database
from mongo.people import MongoAgentRepository, MongoDepartmentRepository
from primitives.ids import new_id
from primitives.yaml_io import load_yaml
from routing.agents import Agent, Role

log = logging.getLogger(__name__)

DEMO_FILE = DATA_DIR / "demo.yaml"
CANNED_FILE = DATA_DIR / "canned.yaml"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    login: str
    password: str
    name: str
    roles: tuple[str, ...]


async def seed_demo(db: Database, path: Path = DEMO_FILE) -> list[DemoLogin]:
    """Upsert the demo departments and agents (idempotent); return the demo logins."""
    data = await asyncio.to_thread(load_yaml, path)
    departments = MongoDepartmentRepository(db)
    for d in data["departments"]:
        await departments.upsert(Department(d["code"], d["name"], d.get("phone")))
    agents = MongoAgentRepository(db)
    logins: list[DemoLogin] = []
    for a in data["agents"]:
        agent = Agent(
            login=a["login"],
            name=a["name"],
            roles=frozenset(Role(r) for r in a["roles"]),
            skills=dict(a.get("skills", {})),
            max_chats=int(a.get("max_chats", 3)),
            department=a.get("department"),
            endpoint=str(a.get("endpoint", "")),
        )
        existing = await agents.password_hash(agent.login)
        await agents.upsert(agent, password_hash=None if existing else hash_password(a["password"]))
        logins.append(DemoLogin(agent.login, a["password"], agent.name, tuple(a["roles"])))
    canned = await seed_canned(db)
    log.info(
        "demo.seeded",
        extra={"departments": len(data["departments"]), "agents": len(logins), "canned": canned},
    )
    return logins


async def seed_canned(db: Database, path: Path = CANNED_FILE) -> int:
    """Add the shared canned replies the shared set lacks (by shortcut); return how many."""
    data = await asyncio.to_thread(load_yaml, path)
    repo = MongoCannedReplyRepository(db)
    have = {r.shortcut for r in await repo.visible_to("") if r.shared}
    added = 0
    for r in data["replies"]:
        shortcut, title, text = checked_fields(str(r["shortcut"]), str(r["title"]), str(r["text"]))
        if shortcut in have:
            continue
        await repo.add(CannedReply(new_id(), shortcut, title, text, None, datetime.now(UTC)))
        have.add(shortcut)
        added += 1
    return added
