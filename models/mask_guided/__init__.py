"""Mask-guided portrait editing (Gu et al. 2019; the seed thesis): networks, labels, files."""
