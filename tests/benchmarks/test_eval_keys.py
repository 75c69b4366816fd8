"""Saved inversions are reused by content hash, however the model's path was spelt."""

from __future__ import annotations

from benchmarks.eval_common import checkpoint_id, checkpoint_key, same_checkpoint, same_run_key


def test_same_weights_under_another_path_match(tmp_path) -> None:
    a, b, c = tmp_path / "a.safetensors", tmp_path / "copy.safetensors", tmp_path / "other.safetensors"
    a.write_bytes(b"weights")
    b.write_bytes(b"weights")
    c.write_bytes(b"other weights")
    key_a, key_b, key_c = (checkpoint_key(checkpoint_id(str(p))) for p in (a, b, c))
    assert key_a != key_b and same_checkpoint(key_a, key_b)
    assert not same_checkpoint(key_a, key_c)


def test_specs_without_hash_match_only_exactly() -> None:
    assert same_checkpoint("random:furrygan:16#", "random:furrygan:16#")
    assert not same_checkpoint("random:furrygan:16#", "random:furrygan:16:1#")


def test_run_keys_also_need_the_same_settings(tmp_path) -> None:
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    a.write_bytes(b"w")
    b.write_bytes(b"w")
    key_a, key_b = (checkpoint_key(checkpoint_id(str(p))) for p in (a, b))
    settings = "|[('steps_w', 60)]|data|0"
    assert same_run_key(key_a + settings, key_b + settings)
    assert not same_run_key(key_a + settings, key_b + "|[('steps_w', 100)]|data|0")
    assert not same_run_key(key_a + settings, key_b + "|[('steps_w', 60)]|data|25")
