"""Latent Atelier: the desktop app and the command line."""

import latent_atelier.models  # noqa: F401  (sets the OpenMP wait policy before torch loads)
