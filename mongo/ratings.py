"""Citizens' ratings of a conversation (web chat), one per conversation: a later rating of
the same conversation replaces the earlier one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mongo.client import Database


@dataclass(frozen=True, slots=True)
class Rating:
    conversation_id: str
    customer_id: str
    agent: str | None
    value: str  # satisfied, neutral, unsatisfied
    comment: str
    at: datetime


class MongoRatingRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["ratings"]

    async def put(self, rating: Rating) -> None:
        await self._col.update_one(
            {"_id": rating.conversation_id},
            {
                "$set": {
                    "customer_id": rating.customer_id,
                    "agent": rating.agent,
                    "value": rating.value,
                    "comment": rating.comment,
                    "at": rating.at,
                }
            },
            upsert=True,
        )
