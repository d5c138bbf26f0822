from agent_web.sessions import LoginGuard, SessionDesk, hash_token
from hub.clock import FixedClock
from mongo.client import Database
from mongo.sessions import MongoLoginFailureRepository, MongoSessionRepository


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


async def test_the_lockout_lifts_after_its_time(db: Database):
    clock = FixedClock()
    guard = LoginGuard(MongoLoginFailureRepository(db), clock)
    for _ in range(4):
        assert await guard.failed("agent1") == 0
    assert await guard.failed("agent1") == 900
    assert await guard.locked_for("agent1") == 900
    clock.advance(seconds=899)
    assert await guard.locked_for("agent1") == 1
    clock.advance(seconds=2)
    assert await guard.locked_for("agent1") == 0


async def test_failures_older_than_the_window_are_forgotten(db: Database):
    clock = FixedClock()
    guard = LoginGuard(MongoLoginFailureRepository(db), clock)
    for _ in range(4):
        await guard.failed("agent1")
    clock.advance(minutes=16)
    assert await guard.failed("agent1") == 0
    assert (await MongoLoginFailureRepository(db).get("agent1")).count == 1


async def test_a_success_clears_the_failures(db: Database):
    clock = FixedClock()
    guard = LoginGuard(MongoLoginFailureRepository(db), clock)
    for _ in range(4):
        await guard.failed("agent1")
    await guard.succeeded("agent1")
    assert await guard.failed("agent1") == 0
