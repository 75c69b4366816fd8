"""Dock widgets around the canvas: layers, tool options, history, operations."""
