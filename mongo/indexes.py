"""Every index the hub relies on, the unique idempotency keys included.

`ensure_indexes` runs at start and is idempotent: it migrates documents written by an earlier
hub (mongo/migrations.py), then creates what is missing (creating an index that exists is a
no-op).

Every unique index is on one field (test_indexes.py holds us to it): the embedded database
checks a compound or array-valued unique index by reading the whole collection on every write.
"""

from __future__ import annotations

from pymongo import ASCENDING as ASC
from pymongo import DESCENDING as DESC
from pymongo import IndexModel

from mongo.client import Database
from mongo.migrations import migrate


def _unique_key() -> IndexModel:
    """An idempotency key, unique where present (records without one are not constrained)."""
    return IndexModel(
        [("key", ASC)],
        unique=True,
        name="key_unique",
        partialFilterExpression={"key": {"$exists": True}},
    )


INDEXES: dict[str, list[IndexModel]] = {
    "customers": [IndexModel([("merged_into", ASC)], name="merged_into")],
    # who owns an identity: _id is the identity key (mongo/customers.py)
    "customer_identities": [IndexModel([("customer_id", ASC)], name="customer")],
    "conversations": [
        IndexModel([("customer_id", ASC), ("updated_at", DESC)], name="customer_recent"),
        IndexModel([("state", ASC), ("queue", ASC)], name="state_queue"),
    ],
    "messages": [
        IndexModel([("key", ASC)], unique=True, name="key_unique"),
        IndexModel([("conversation_id", ASC), ("_id", ASC)], name="conversation_order"),
        # outbound messages still to deliver, resumed at start
        IndexModel([("delivery", ASC)], name="delivery"),
        # inbound messages of the last minutes, checked for an answer at start (a string
        # bucket: the embedded database serves equality and $in from an index, not ranges)
        IndexModel([("received_minute", ASC)], name="received_minute"),
    ],
    "cases": [
        IndexModel([("number", ASC)], unique=True, name="number_unique"),
        IndexModel([("customer_id", ASC), ("created_at", DESC)], name="customer_recent"),
        IndexModel([("state", ASC), ("due_at", ASC)], name="state_due"),
        IndexModel([("department", ASC), ("state", ASC)], name="department_state"),
        IndexModel([("assisting", ASC), ("state", ASC)], name="assisting_state"),
        IndexModel([("created_by", ASC), ("state", ASC)], name="created_by_state"),
        IndexModel([("contact_phone", ASC), ("created_at", DESC)], name="phone_recent"),
        IndexModel([("category", ASC), ("created_at", DESC)], name="category_recent"),
    ],
    # mongo/cases.py: what free-text and address search match on, _id = the case number
    "case_text": [IndexModel([("created_at", DESC)], name="recent")],
    "case_events": [
        # _id is "<case number>#<seq>": one copy per event (mongo/cases.py)
        IndexModel([("case_number", ASC), ("seq", ASC)], name="case_seq"),
        IndexModel([("actor", ASC), ("at", DESC)], name="actor_recent"),
    ],
    "agent_sessions": [IndexModel([("login", ASC), ("at", DESC)], name="login_recent")],
    "agents": [IndexModel([("login", ASC)], unique=True, name="login_unique")],
    "departments": [IndexModel([("code", ASC)], unique=True, name="code_unique")],
    # agent_web: staff sign-in (the _id is the session token's hash) and canned replies
    "web_sessions": [
        IndexModel([("login", ASC)], name="login"),
        IndexModel([("expires_at", ASC)], name="expires_at"),
    ],
    "canned_replies": [
        IndexModel([("key", ASC)], unique=True, name="owner_shortcut_unique"),
        IndexModel([("owner", ASC)], name="owner"),
    ],
    # channels/sms
    "sms_outbound": [
        _unique_key(),
        IndexModel([("case_number", ASC)], name="case_number"),
        IndexModel([("state", ASC)], name="state"),
    ],
    # _id is the SMSC's message id: which SMS it stands for, until it expires (mongo/sms.py)
    "sms_ids": [IndexModel([("expires_at", ASC)], name="expires_at")],
    "sms_inbound": [IndexModel([("key", ASC), ("received_at", DESC)], name="key_recent")],
    "sms_parts": [IndexModel([("group", ASC), ("index", ASC)], name="group_index")],
    # channels/revisit.py
    "revisit_surveys": [
        IndexModel([("channel", ASC), ("address", ASC), ("sent_at", DESC)], name="address_recent")
    ],
    # channels/webchat: uploads and transcripts counted per visitor/address and hour, codes
    "uploads": [IndexModel([("visitor", ASC), ("at", DESC)], name="visitor_recent")],
    "calls": [
        IndexModel([("started_at", DESC)], name="recent"),
        IndexModel([("caller", ASC), ("started_at", DESC)], name="caller_recent"),
        IndexModel([("agent", ASC), ("started_at", DESC)], name="agent_recent"),
        IndexModel([("conversation_id", ASC)], name="conversation"),
    ],
    "transcript_requests": [
        IndexModel([("visitor", ASC), ("at", DESC)], name="visitor_recent"),
        IndexModel([("phone", ASC), ("at", DESC)], name="phone_recent"),
        IndexModel([("email", ASC), ("at", DESC)], name="email_recent"),
    ],
    "contact_verifications": [
        IndexModel([("visitor", ASC), ("to", ASC), ("created_at", DESC)], name="visitor_to"),
        IndexModel([("to", ASC), ("created_at", DESC)], name="to_recent"),
    ],
    # channels/mail
    "mail_outbound": [
        _unique_key(),
        IndexModel([("state", ASC)], name="state"),
    ],
}


async def ensure_indexes(db: Database) -> None:
    await migrate(db)
    for collection, models in INDEXES.items():
        await db[collection].create_indexes(models)
