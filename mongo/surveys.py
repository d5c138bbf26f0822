"""Revisit surveys awaiting a 1/2/3 answer, one per case and channel, keyed by the address the
question went to (a phone number for SMS, "<appid>:<openid>" for WeChat)."""

from __future__ import annotations

from datetime import datetime

from channels.surveys import OpenSurvey
from mongo.client import Database


class MongoSurveyRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["revisit_surveys"]

    async def open(self, channel: str, case_number: str, address: str, at: datetime) -> None:
        await self._col.update_one(
            {"_id": f"{channel}:{case_number}"},
            {
                "$set": {
                    "channel": channel,
                    "case_number": case_number,
                    "address": address,
                    "sent_at": at,
                    "answer": None,
                    "answered_at": None,
                    "answer_key": None,
                }
            },
            upsert=True,
        )

    async def latest(
        self, channel: str, address: str, since: datetime, key: str
    ) -> OpenSurvey | None:
        """The newest survey sent to address since `since` that is unanswered, or that this
        same reply (key: the inbound message's id) already answered: a redelivery."""
        doc = await self._col.find_one(
            {
                "channel": channel,
                "address": address,
                "sent_at": {"$gte": since},
                "$or": [{"answer": None}, {"answer_key": key}],
            },
            sort=[("sent_at", -1)],
        )
        return OpenSurvey(doc["case_number"], doc["sent_at"], doc["answer"]) if doc else None

    async def answer(
        self, channel: str, case_number: str, answer: str, at: datetime, key: str
    ) -> bool:
        result = await self._col.update_one(
            {"_id": f"{channel}:{case_number}", "answer": None},
            {"$set": {"answer": answer, "answered_at": at, "answer_key": key}},
        )
        return result.modified_count == 1
