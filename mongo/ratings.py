"""Citizens' ratings of a conversation (web chat), one per conversation: a later rating of
the same conversation replaces the earlier one."""

from __future__ import annotations

from channels.webchat.records import Rating
from mongo.client import Database


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
