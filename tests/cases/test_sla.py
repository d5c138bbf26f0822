from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from cases.model import Case, CaseState, CaseType
from cases.sla import DuePolicy, SlaLight, SlaPolicy, WorkCalendar
from primitives.local_time import LOCAL_TZ

# Monday 2026-11-23, 09:00 Beijing time
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=LOCAL_TZ)


def case_opened(at: datetime, due_days: int = 10) -> Case:
    return Case(
        number="20261123-000001",
        type=CaseType.COMPLAINT,
        state=CaseState.DISPATCHED,
        title="t",
        description="",
        category=(),
        customer_id=None,
        conversation_id=None,
        channel="sms",
        contact_phone=None,
        address="",
        department="eco",
        priority=0,
        created_at=at,
        due_at=WorkCalendar().add_working_days(at, due_days),
        version=1,
        accepted_at=at,
    )


def test_working_days_skip_weekends():
    cal = WorkCalendar()
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=LOCAL_TZ)
    assert cal.add_working_days(friday, 1).date() == date(2026, 11, 30)  # Monday


def test_holidays_and_makeup_workdays_are_respected():
    cal = WorkCalendar.from_lists(holidays=[date(2026, 11, 24)], workdays=[date(2026, 11, 28)])
    assert not cal.is_working_day(date(2026, 11, 24))  # a Tuesday holiday
    assert cal.is_working_day(date(2026, 11, 28))  # a Saturday worked in exchange
    assert cal.add_working_days(MONDAY_9, 1).date() == date(2026, 11, 25)


def test_elapsed_working_days_exclude_the_weekend():
    cal = WorkCalendar()
    later = MONDAY_9 + timedelta(days=7)  # next Monday 09:00
    assert cal.working_days_between(MONDAY_9, later) == 5.0


def test_due_dates_follow_the_case_type():
    due = DuePolicy()
    assert due.due_at(CaseType.CONSULT, MONDAY_9).date() == date(2026, 11, 24)
    assert due.due_at(CaseType.COMPLAINT, MONDAY_9).date() == date(2026, 11, 30)
    assert due.due_at(CaseType.EMERGENCY, MONDAY_9) == MONDAY_9 + timedelta(hours=2)
    remind = MONDAY_9 + timedelta(days=2)
    assert due.due_at(CaseType.TODO, MONDAY_9, remind) == remind


def test_light_is_green_up_to_3_working_days_yellow_after_5_red_after_7():
    policy = SlaPolicy()
    case = case_opened(MONDAY_9, due_days=20)
    cal = policy.calendar
    assert policy.light(case, cal.add_working_days(MONDAY_9, 3)) is SlaLight.GREEN
    assert (
        policy.light(case, cal.add_working_days(MONDAY_9, 5) + timedelta(hours=1))
        is SlaLight.YELLOW
    )
    assert policy.light(case, cal.add_working_days(MONDAY_9, 7)) is SlaLight.YELLOW
    assert (
        policy.light(case, cal.add_working_days(MONDAY_9, 7) + timedelta(hours=1)) is SlaLight.RED
    )


def test_light_turns_yellow_early_when_the_due_date_is_near():
    policy = SlaPolicy()
    near_due = case_opened(MONDAY_9, due_days=5)
    four_days = policy.calendar.add_working_days(MONDAY_9, 4)
    assert policy.light(near_due, four_days) is SlaLight.YELLOW
    assert policy.light(case_opened(MONDAY_9, due_days=20), four_days) is SlaLight.GREEN


def test_overdue_case_is_red_whatever_its_age():
    policy = SlaPolicy()
    case = replace(case_opened(MONDAY_9), due_at=MONDAY_9 + timedelta(hours=2))
    assert policy.light(case, MONDAY_9 + timedelta(hours=3)) is SlaLight.RED


def test_thresholds_are_configurable():
    strict = SlaPolicy(green_max_days=1, yellow_after_days=1, red_after_days=2)
    case = case_opened(MONDAY_9, due_days=20)
    assert strict.light(case, MONDAY_9 + timedelta(days=2, hours=1)) is SlaLight.RED


def test_closed_case_keeps_the_light_it_closed_with():
    policy = SlaPolicy()
    case = replace(case_opened(MONDAY_9, due_days=20), closed_at=MONDAY_9 + timedelta(hours=5))
    assert policy.light(case, datetime(2027, 6, 1, tzinfo=UTC)) is SlaLight.GREEN
