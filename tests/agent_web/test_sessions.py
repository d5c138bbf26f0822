from agent_web.sessions import SessionDesk, hash_token
from mongo.client import Database
from mongo.sessions import MongoSessionRepository
from primitives.clock import FixedClock


async def test_a_session_expires_after_its_lifetime(db: Database):
    clock = FixedClock()
    desk = SessionDesk(MongoSessionRepository(db), clock)
    token, session = await desk.start("agent1")
    for _ in range(11):  # active all shift long
        clock.advance(hours=1)
        assert await desk.resolve(token) is not None
    clock.advance(hours=1)
    assert await desk.resolve(token) is None
    assert await MongoSessionRepository(db).find(session.token_hash) is None


async def test_an_idle_session_ends_early(db: Database):
    clock = FixedClock()
    desk = SessionDesk(MongoSessionRepository(db), clock)
    token, _ = await desk.start("agent1")
    clock.advance(hours=1, minutes=59)
    assert await desk.resolve(token) is not None
    clock.advance(hours=1, minutes=59)
    assert await desk.resolve(token) is not None  # the last request renewed it
    clock.advance(hours=2)
    assert await desk.resolve(token) is None


async def test_only_the_hash_of_the_token_is_stored(db: Database):
    desk = SessionDesk(MongoSessionRepository(db), FixedClock())
    token, session = await desk.start("agent1")
    assert session.token_hash == hash_token(token)
    assert await db["web_sessions"].count_documents({"_id": token}) == 0


async def test_unknown_or_oversized_tokens_resolve_to_nothing(db: Database):
    desk = SessionDesk(MongoSessionRepository(db), FixedClock())
    assert await desk.resolve("") is None
    assert await desk.resolve("x" * 500) is None
    assert await desk.resolve("not-a-session") is None
