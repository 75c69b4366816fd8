"""Mask-guided portrait editing: the ``mask-edit`` operation (its networks live in models/)."""
