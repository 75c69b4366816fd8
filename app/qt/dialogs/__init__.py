"""Dialogs: preferences, keyboard shortcuts, crash recovery."""
