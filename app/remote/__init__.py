"""Operations on remote workers and batches over many files, through Dask distributed.

No Qt here. :mod:`.session` is the app's side (a Dask client), :mod:`.worker_tasks` what runs
in a worker process, :mod:`.worker_main` the ``latent-atelier-worker`` command,
:mod:`.batch` the CLI's batches, :mod:`.addresses` and :mod:`.certificates` the rules and
keys for connections beyond this machine.
"""
