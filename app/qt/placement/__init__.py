"""The placement box on the canvas, and the overlay that also shows live previews."""
