"""Preferences: XDG location, round trip, validation, damaged files."""

from __future__ import annotations

import json

import pytest

from latent_atelier.app.document.preferences import Preferences, config_dir, recovery_dir


def test_defaults_and_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert config_dir() == tmp_path / "cfg" / "latent-atelier"
    assert recovery_dir() == tmp_path / "state" / "latent-atelier" / "recovery"
    prefs = Preferences.load()
    assert prefs == Preferences() and prefs.undo_budget_bytes == 1 << 30
    prefs.device = "cuda:1"
    prefs.autosave_seconds = 30
    prefs.undo_budget_mb = 256
    prefs.add_recent(tmp_path / "a.ora")
    written = prefs.save()
    assert written == tmp_path / "cfg" / "latent-atelier" / "preferences.json"
    assert Preferences.load() == prefs


def test_recent_files_order_and_limit(tmp_path):
    prefs = Preferences(max_recent=3)
    for name in ("a", "b", "c", "d", "b"):
        prefs.add_recent(tmp_path / f"{name}.ora")
    assert [p.rsplit("/", 1)[-1] for p in prefs.recent_files] == ["b.ora", "d.ora", "c.ora"]
    prefs.remove_recent(tmp_path / "d.ora")
    assert len(prefs.recent_files) == 2


def test_invalid_values_refused_on_save_and_ignored_on_load(tmp_path):
    with pytest.raises(ValueError, match="autosave_seconds"):
        Preferences(autosave_seconds=3).save(tmp_path / "p.json")
    with pytest.raises(ValueError, match="device"):
        Preferences(device="tpu").validate()
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"device": "gpu!", "undo_budget_mb": 512, "unknown": 1}))
    prefs = Preferences.load(path)
    assert prefs.device == "auto" and prefs.undo_budget_mb == 512


def test_damaged_file_gives_defaults(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("{oops")
    assert Preferences.load(path) == Preferences()
    path.write_text("[1, 2]")
    assert Preferences.load(path) == Preferences()
