"""Fill a hub database with history in bulk, shaped exactly as the hub stores it.

Benchmarks need 100k stored messages before they measure; storing them one by one through the
router would take longer than the measurement. The documents come from the repositories' own
document builders, so indexes, keys and field types are the ones the hub writes; they are
inserted in batches.

Per 10 messages: one conversation (five questions, five bot answers, closed) and one case;
every two conversations belong to one customer, who has one web identity. Cases are closed
except the latest OPEN_CASES, spread over the states of the loop: a centre's open workload is
set by its daily intake and deadlines, while closed history keeps growing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bson import ObjectId

from cases.model import Case, CaseEvent, CaseState, CaseType
from hub.progress import bar
from mongo.cases import _case_to_doc  # the repository's own shape
from mongo.client import Database
from mongo.conversations import _to_doc as _conversation_to_doc
from mongo.customers import _new_doc as _customer_doc
from mongo.customers import _owner_doc
from mongo.messages import _message_to_doc
from routing.conversation_model import Conversation, ConversationState, Media
from routing.customers import Identity, IdentityKind
from routing.messages import DeliveryState, Direction, SenderKind, StoredMessage

BATCH = 1000
DEPARTMENTS = ("water", "chengguan", "power", "transport", "housing")
OPEN_CASES = 1000
OPEN_STATES = (CaseState.DISPATCHED, CaseState.CONFIRMED, CaseState.IN_PROGRESS, CaseState.REPLIED)
QUESTION = "我想咨询一下新生儿医保怎么办理，需要带什么材料？"
ANSWER = "新生儿出生后90天内可凭出生医学证明和户口簿到社区服务中心办理参保登记。"


async def stored_messages(db: Database) -> int:
    return await db["messages"].estimated_document_count()


async def fill_to(db: Database, messages: int, *, start: datetime | None = None) -> int:
    """Add history until the database holds at least `messages` messages; return the count.

    The blocks continue where an earlier call stopped (ids derive from the block number)."""
    have = await stored_messages(db)
    base = start or datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    block = have // 10
    progress = bar(max(0, messages - have), "填充历史消息", "条")  # quiet unless a terminal
    while have < messages:
        blocks = range(block, block + min(BATCH // 10, (messages - have + 9) // 10))
        docs: dict[str, list[dict[str, object]]] = {
            name: [] for name in ("customers", "customer_identities", "conversations", "messages")
        }
        cases: list[dict[str, object]] = []
        for b in blocks:
            _add_block(b, base + timedelta(minutes=b), docs, cases)
        for name, batch in docs.items():
            if batch:
                await db[name].insert_many(batch, ordered=False)
        await db["cases"].insert_many(cases, ordered=False)
        have += 10 * len(blocks)
        block += len(blocks)
        progress.update(10 * len(blocks))
    progress.close()
    await _close_all_but_latest(db, block, base)
    return have


async def _close_all_but_latest(db: Database, blocks: int, base: datetime) -> None:
    """Cases of blocks older than the latest OPEN_CASES are closed by now."""
    cutoff = base + timedelta(minutes=blocks - OPEN_CASES)
    await db["cases"].update_many(
        {"state": {"$in": [s.value for s in OPEN_STATES]}, "created_at": {"$lt": cutoff}},
        {"$set": {"state": CaseState.CLOSED.value, "closed_at": cutoff}},
    )


def _add_block(
    b: int, at: datetime, docs: dict[str, list[dict[str, object]]], cases: list[dict[str, object]]
) -> None:
    customer_id = f"{b // 2:024x}"
    conversation_id = f"c{b:023x}"
    if b % 2 == 0:
        identity = Identity(IdentityKind.WEB, f"bench-visitor-{b // 2}")
        customer = _customer_doc(identity, "") | {"_id": customer_id, "created_at": at}
        docs["customers"].append(customer)
        docs["customer_identities"].append(_owner_doc(identity, customer_id))
    conversation = Conversation(
        id=conversation_id,
        customer_id=customer_id,
        channel="webchat",
        media=Media.CHAT,
        state=ConversationState.CLOSED,
        created_at=at,
        updated_at=at + timedelta(minutes=5),
        closed_at=at + timedelta(minutes=5),
        last_channel="webchat",
    )
    docs["conversations"].append(_conversation_to_doc(conversation))
    for i in range(10):
        inbound = i % 2 == 0
        docs["messages"].append(
            _message_to_doc(
                StoredMessage(
                    id=str(ObjectId.from_datetime(at + timedelta(seconds=i)))[:16] + f"{b:08x}",
                    conversation_id=conversation_id,
                    customer_id=customer_id,
                    channel="webchat",
                    external_id=f"bench:{b}:{i}",
                    direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                    sender=SenderKind.CUSTOMER if inbound else SenderKind.BOT,
                    sender_id=customer_id if inbound else "bot",
                    text=QUESTION if inbound else ANSWER,
                    created_at=at + timedelta(seconds=i),
                    delivery=DeliveryState.RECEIVED if inbound else DeliveryState.SENT,
                )
            )
        )
    cases.append(_case_to_doc(_case(b, at, customer_id, conversation_id)))


def _case(b: int, at: datetime, customer_id: str, conversation_id: str) -> Case:
    state = OPEN_STATES[b % len(OPEN_STATES)]
    opened = CaseEvent(
        seq=1, action="accept", actor="bench", at=at, from_state=None, to_state=CaseState.ACCEPTED
    )
    case = Case(
        number=f"{at:%Y%m%d}-{b:06d}",
        type=CaseType.COMPLAINT if b % 3 else CaseType.REPAIR,
        state=state,
        title="夜间施工噪声扰民",
        description="工地每晚十一点后仍在施工，影响休息。",
        category=("08", "0801", "080101", "08010101"),
        customer_id=customer_id,
        conversation_id=conversation_id,
        channel="webchat",
        contact_phone="13812345678",
        address=f"东湖区幸福路{b % 300}号",
        department=DEPARTMENTS[b % len(DEPARTMENTS)],
        priority=0,
        created_at=at,
        due_at=at + timedelta(days=5),
        version=1,
        events=(opened,),
    )
    return case
