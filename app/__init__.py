"""Latent Atelier: the desktop app and the command line."""
