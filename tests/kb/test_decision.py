"""The answer / clarify / none decision and how its thresholds are chosen (issue 18)."""

from dataclasses import replace

from kb.calibration import DecisionCase, choose_decision, outcome
from kb.decision import KbDecision, decide_from
from kb.thresholds import Profile

PROFILE = Profile(answer_at=0.7, clarify_at=0.3, clarify_margin=0.02)


def test_confident_and_clearly_ahead_answers():
    assert decide_from(0.9, 0.05, 3, False, PROFILE) is KbDecision.ANSWER


def test_confident_but_a_close_runner_up_offers_the_choices():
    assert decide_from(0.9, 0.01, 3, False, PROFILE) is KbDecision.CLARIFY
    assert decide_from(0.9, 0.01, 1, False, PROFILE) is KbDecision.ANSWER  # nothing to offer
    no_margin = replace(PROFILE, clarify_margin=0.0)
    assert decide_from(0.9, 0.0, 3, False, no_margin) is KbDecision.ANSWER


def test_plausible_clarifies_and_unlikely_hands_over():
    assert decide_from(0.5, 0.05, 3, False, PROFILE) is KbDecision.CLARIFY
    assert decide_from(0.1, 0.05, 3, False, PROFILE) is KbDecision.NONE
    assert decide_from(0.1, 0.05, 3, True, PROFILE) is KbDecision.CLARIFY  # a bare topic


def case(expected, p, margin, top, offered=("a", "b", "c")):
    return DecisionCase(expected, p, margin, 3, False, top, offered)


def test_outcomes():
    assert outcome(case("a", 0.9, 0.1, "a"), KbDecision.ANSWER) == "right"
    assert outcome(case("b", 0.9, 0.1, "a"), KbDecision.ANSWER) == "wrong"
    assert outcome(case(None, 0.9, 0.1, "a"), KbDecision.ANSWER) == "ook_answered"
    assert outcome(case("b", 0.9, 0.1, "a"), KbDecision.CLARIFY) == "clarify_hit"
    assert outcome(case("z", 0.9, 0.1, "a"), KbDecision.CLARIFY) == "clarify_miss"
    assert outcome(case("a", 0.1, 0.1, "a"), KbDecision.NONE) == "handed_over"


def test_thresholds_answer_the_clear_clarify_the_close_and_drop_the_out_of_kb():
    cases = [case("a", 0.95, 0.1, "a")] * 10  # clear and right
    cases += [case("b", 0.9, 0.005, "a")] * 3  # confident, wrong, runner-up close and right
    cases += [case(None, 0.2, 0.1, "a")] * 5  # out of KB, unlikely
    chosen = choose_decision(cases, Profile())
    decisions = [decide_from(c.p, c.margin, c.n_hits, c.keyword, chosen) for c in cases]
    assert decisions[:10] == [KbDecision.ANSWER] * 10
    assert decisions[10:13] == [KbDecision.CLARIFY] * 3
    assert decisions[13:] == [KbDecision.NONE] * 5
