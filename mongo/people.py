"""Agents and departments in MongoDB (read-mostly: callers keep them in memory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cases.departments import Department
from cases.errors import DepartmentNotFound
from mongo.client import Database
from routing.agents import Agent, Role
from routing.errors import AgentNotFound


class MongoAgentRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["agents"]

    async def get(self, login: str) -> Agent:
        doc = await self._col.find_one({"login": login})
        if doc is None:
            raise AgentNotFound(login)
        return _agent_from_doc(doc)

    async def all(self) -> list[Agent]:
        return [_agent_from_doc(d) async for d in self._col.find({}).sort("login", 1)]

    async def upsert(self, agent: Agent, *, password_hash: str | None = None) -> None:
        fields = _agent_to_doc(agent)
        if password_hash is not None:
            fields["password_hash"] = password_hash
        await self._col.update_one({"login": agent.login}, {"$set": fields}, upsert=True)

    async def password_hash(self, login: str) -> str | None:
        doc = await self._col.find_one({"login": login, "active": True}, {"password_hash": 1})
        return doc.get("password_hash") if doc else None


class MongoDepartmentRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["departments"]

    async def get(self, code: str) -> Department:
        doc = await self._col.find_one({"code": code})
        if doc is None:
            raise DepartmentNotFound(code)
        return _department_from_doc(doc)

    async def all(self) -> list[Department]:
        return [_department_from_doc(d) async for d in self._col.find({}).sort("code", 1)]

    async def upsert(self, department: Department) -> None:
        doc = {
            "code": department.code,
            "name": department.name,
            "phone": department.phone,
            "parent": department.parent,
            "active": department.active,
        }
        await self._col.update_one({"code": department.code}, {"$set": doc}, upsert=True)


def _agent_to_doc(a: Agent) -> dict[str, Any]:
    return {
        "login": a.login,
        "name": a.name,
        "roles": sorted(r.value for r in a.roles),
        "skills": dict(a.skills),
        "max_chats": a.max_chats,
        "department": a.department,
        "active": a.active,
        "endpoint": a.endpoint,
    }


def _agent_from_doc(d: Mapping[str, Any]) -> Agent:
    return Agent(
        login=d["login"],
        name=d.get("name", d["login"]),
        roles=frozenset(Role(r) for r in d.get("roles", [])),
        skills={str(k): int(v) for k, v in (d.get("skills") or {}).items()},
        max_chats=int(d.get("max_chats", 3)),
        department=d.get("department"),
        active=bool(d.get("active", True)),
        endpoint=str(d.get("endpoint") or ""),
    )


def _department_from_doc(d: Mapping[str, Any]) -> Department:
    return Department(
        code=d["code"],
        name=d["name"],
        phone=d.get("phone"),
        parent=d.get("parent"),
        active=bool(d.get("active", True)),
    )
