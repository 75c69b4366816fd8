"""Stitching per-segment images: Poisson blending and level-set boundary refinement."""
