"""Embedding and inversion: W+ and noise maps, segments, segment edits, directions."""
