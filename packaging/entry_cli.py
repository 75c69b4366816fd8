"""The bundle's command-line executable: ``latent-atelier-cli COMMAND ...``."""

from latent_atelier.app.cli import main

raise SystemExit(main())
