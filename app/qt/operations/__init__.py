"""The operations dock's parts: forms built from the registry, jobs, pending results.

The main window owns one :class:`~latent_atelier.app.qt.operations.controller.OperationsController`
(``window.operations``) and calls it directly.
"""
