"""Demo data for `hub demo`: departments, agents with skills and logins, and the bot data."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from agent_web.passwords import hash_password
from cases.departments import Department
from hub.settings import DATA_DIR
from mongo.client import Database
from mongo.people import MongoAgentRepository, MongoDepartmentRepository
from primitives.yaml_io import load_yaml
from routing.agents import Agent, Role

log = logging.getLogger(__name__)

DEMO_FILE = DATA_DIR / "demo.yaml"


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
        )
        existing = await agents.password_hash(agent.login)
        await agents.upsert(agent, password_hash=None if existing else hash_password(a["password"]))
        logins.append(DemoLogin(agent.login, a["password"], agent.name, tuple(a["roles"])))
    log.info("demo.seeded", extra={"departments": len(data["departments"]), "agents": len(logins)})
    return logins
