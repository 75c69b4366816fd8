"""Compositing after a matte: dropped backgrounds, moving/scaling them, one-click export."""
