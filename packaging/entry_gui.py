"""The bundle's GUI executable: ``latent-atelier [FILE]``."""

from latent_atelier.app.qt.main import main

raise SystemExit(main())
