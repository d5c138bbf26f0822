"""Loading and checking IVR flow files, conditions and the admin graph."""

from __future__ import annotations

import logging
import wave
from pathlib import Path

import pytest

import telephony
from telephony.ivr.flow import (
    AGENT,
    FlowError,
    MenuStep,
    flow_graph,
    load_flow,
    load_flows,
    parse_condition,
)
from telephony.ivr.services import CallerFacts

FLOWS_DIR = Path(telephony.__file__).parent / "data" / "flows"
HEAD = "name: test\ntitle: 测试\nstart: hi\nsteps:\n"


def _write(tmp_path: Path, steps: str, head: str = HEAD, name: str = "hotline.yaml") -> Path:
    path = tmp_path / name
    path.write_text(head + steps, encoding="utf-8")
    return path


def _error(tmp_path: Path, steps: str, head: str = HEAD) -> str:
    with pytest.raises(FlowError) as e:
        load_flow(_write(tmp_path, steps, head))
    return str(e.value)


def test_the_default_hotline_flow_loads_cleanly() -> None:
    """hotline.yaml is valid, has no unreachable step and screens blacklisted callers."""
    flows = load_flows(FLOWS_DIR)
    hotline = flows["hotline"]
    assert hotline.warnings == ()
    assert hotline.screens_blacklist
    assert hotline.start == "gate"  # the blacklist screen comes before the greeting


def test_goto_to_an_unknown_step_names_file_and_step(tmp_path: Path) -> None:
    """A menu option pointing nowhere is reported with the file and the step id."""
    steps = """\
  hi: {type: goto, goto: main_menu}
  main_menu:
    type: menu
    prompt: 请按1。
    options: {"1": {goto: nowhere}}
"""
    assert _error(tmp_path, steps) == "hotline.yaml: step 'main_menu': goto 'nowhere' is not a step"


def test_unknown_step_type(tmp_path: Path) -> None:
    """A typo in `type` fails the load and lists the known types."""
    msg = _error(tmp_path, "  hi: {type: plya, text: 你好, next: hi}\n")
    assert msg.startswith("hotline.yaml: step 'hi': unknown step type 'plya' (play, menu, ask")


def test_missing_field(tmp_path: Path) -> None:
    """A transfer without its queue says which field is missing."""
    assert _error(tmp_path, "  hi: {type: transfer}\n") == (
        "hotline.yaml: step 'hi': 'queue' is required"
    )


def test_unknown_field(tmp_path: Path) -> None:
    """A misspelt field is an error, not silently ignored."""
    msg = _error(tmp_path, "  hi: {type: hangup, txet: 再见}\n")
    assert msg == "hotline.yaml: step 'hi': unknown field 'txet'"


def test_bad_condition_is_refused_without_eval(tmp_path: Path) -> None:
    """Anything outside the condition vocabulary is rejected at load."""
    steps = """\
  hi:
    type: branch
    when: [{if: "__import__('os').system('true')", goto: bye}]
    else: bye
  bye: {type: hangup}
"""
    msg = _error(tmp_path, steps)
    assert msg.startswith("hotline.yaml: step 'hi': 'when.0.if': bad condition")


def test_option_keys_must_be_phone_keys(tmp_path: Path) -> None:
    """'A' is not a key a caller can press in this hotline."""
    steps = "  hi: {type: menu, prompt: 请选择。, options: {A: {goto: hi}}}\n"
    msg = _error(tmp_path, steps)
    assert msg == "hotline.yaml: step 'hi': 'options': option key 'A' is not one of 0-9 * #"


def test_missing_sound_file(tmp_path: Path) -> None:
    """A play step's sound must exist next to the flow file."""
    steps = "  hi: {type: play, sound: welcome.wav, next: bye}\n  bye: {type: hangup}\n"
    assert _error(tmp_path, steps) == "hotline.yaml: step 'hi': sound 'welcome.wav' does not exist"


def test_wav_sound_must_be_telephone_format(tmp_path: Path) -> None:
    """A 16 kHz file is refused; an 8 kHz mono 16-bit one is loaded as slin."""
    for rate in (16000, 8000):
        with wave.open(str(tmp_path / "welcome.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(b"\1\0" * 80)
        steps = "  hi: {type: play, sound: welcome.wav, next: bye}\n  bye: {type: hangup}\n"
        if rate == 16000:
            assert _error(tmp_path, steps).endswith("must be 8 kHz 16-bit mono")
        else:
            assert load_flow(_write(tmp_path, steps)).sounds["welcome.wav"] == b"\1\0" * 80


def test_play_needs_text_or_sound(tmp_path: Path) -> None:
    """A play step with neither text nor sound has nothing to play."""
    msg = _error(tmp_path, "  hi: {type: play, next: hi}\n")
    assert msg == "hotline.yaml: step 'hi': a play step needs exactly one of 'text' or 'sound'"


def test_start_must_be_a_step(tmp_path: Path) -> None:
    """The start step is checked like any goto."""
    head = "name: test\ntitle: 测试\nstart: begin\nsteps:\n"
    assert _error(tmp_path, "  hi: {type: hangup}\n", head) == (
        "hotline.yaml: start 'begin' is not a step"
    )


def test_queued_must_point_to_a_transfer_step(tmp_path: Path) -> None:
    """An ask step's `queued` leads to the waiting phase, so it must be a transfer."""
    steps = "  hi: {type: ask, resolved: hi, unresolved: hi, queued: hi}\n"
    assert _error(tmp_path, steps) == (
        "hotline.yaml: step 'hi': queued 'hi' must be a transfer step"
    )


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    """Broken YAML fails with the file name."""
    assert _error(tmp_path, "  hi: {type: hangup\n").startswith("hotline.yaml: cannot read")


def test_unreachable_step_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An orphan step loads but is reported, naming file and step."""
    caplog.set_level(logging.WARNING)
    flow = load_flow(_write(tmp_path, "  hi: {type: hangup}\n  orphan: {type: hangup}\n"))
    assert flow.warnings == ("hotline.yaml: step 'orphan' is unreachable from 'hi'",)
    assert any("orphan" in str(r.__dict__.get("detail")) for r in caplog.records)


def test_integer_option_keys_from_yaml_are_accepted(tmp_path: Path) -> None:
    """`1:` unquoted in YAML is the key '1'."""
    steps = "  hi: {type: menu, prompt: 请按1。, options: {1: {say: 人工, goto: hi}}}\n"
    menu = load_flow(_write(tmp_path, steps)).steps["hi"]
    assert isinstance(menu, MenuStep)
    assert menu.options["1"].say == ["人工"]


def test_duplicate_flow_names_are_refused(tmp_path: Path) -> None:
    """Two files may not claim the same flow name."""
    _write(tmp_path, "  hi: {type: hangup}\n", name="a.yaml")
    _write(tmp_path, "  hi: {type: hangup}\n", name="b.yaml")
    with pytest.raises(FlowError, match=r"b\.yaml: flow name 'test' is used by another file"):
        load_flows(tmp_path)


def test_conditions() -> None:
    """The small vocabulary evaluates against the caller's facts."""
    facts = CallerFacts(open_cases=2, in_hours=False, elderly=True)
    assert parse_condition("caller.open_cases > 0").holds(facts, speech_on=False)
    assert not parse_condition("caller.open_cases >= 3").holds(facts, speech_on=False)
    assert parse_condition("not hours.open").holds(facts, speech_on=False)
    assert parse_condition("caller.elderly").holds(facts, speech_on=False)
    assert parse_condition("not speech.on").holds(facts, speech_on=False)
    assert not parse_condition("speech.on").holds(facts, speech_on=False)
    for bad in ("caller.vip > 1", "caller.open_cases", "caller.name", "hours.open or 1"):
        with pytest.raises(ValueError, match="bad condition"):
            parse_condition(bad)


def test_graph_has_labelled_edges_and_the_implicit_agent(tmp_path: Path) -> None:
    """Edges carry the option/condition; a menu without fallback points at the agent."""
    steps = """\
  hi:
    type: branch
    when: [{if: caller.vip, goto: menu}]
    else: bye
  menu:
    type: menu
    prompt: 查询请按1。
    options: {"1": {say: [查询], goto: bye}}
  bye: {type: hangup}
"""
    graph = flow_graph(load_flow(_write(tmp_path, steps)))
    assert graph["edges"] == [
        {"from": "hi", "to": "menu", "label": "if caller.vip"},
        {"from": "hi", "to": "bye", "label": "else"},
        {"from": "menu", "to": "bye", "label": "1 查询"},
        {"from": "menu", "to": AGENT, "label": "fallback"},
    ]
    assert [n["id"] for n in graph["nodes"]] == ["hi", "menu", "bye", AGENT]
    assert graph["nodes"][0]["start"] == "true"


def test_hotline_graph_reaches_every_step() -> None:
    """Every hotline step is a node, and every edge ends at a node."""
    graph = flow_graph(load_flows(FLOWS_DIR)["hotline"])
    ids = {n["id"] for n in graph["nodes"]}
    assert {"greeting", "ask", "agent", "survey", "voicemail"} <= ids
    assert all(e["to"] in ids for e in graph["edges"])
