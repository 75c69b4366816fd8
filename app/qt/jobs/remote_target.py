"""Jobs on a remote worker: the hook a :class:`Job` uses when the preference names a worker.

``remote_target_for(preferences, manager)`` gives None (run here) or a :class:`RemoteTarget`;
set it as ``job.remote`` and the job thread calls it instead of running the Operation. The
Dask session is opened on the first job (in the job thread, so the window never waits for
the network) and kept for later ones, so the photo and the checkpoint travel once. The
worker's device and host name are shown beside the job's stage ("W+ · cuda:0 on gpu-box").
"""

from __future__ import annotations

import threading
from typing import Any

from latent_atelier.editors.operation import OperationError

_sessions: dict[tuple[str, str], Any] = {}
_sessions_lock = threading.Lock()


def _session(address: str, tls_dir: str) -> Any:
    """One session per (address, certificate folder), shared by every job."""
    from latent_atelier.app.remote.session import RemoteSession

    key = (address, tls_dir)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None or session.client.status not in ("running", "connecting"):
            session = RemoteSession.connect(address, tls_dir or None)
            _sessions[key] = session
        return session


def close_sessions() -> None:
    """Disconnect every worker session (application exit, tests)."""
    with _sessions_lock:
        while _sessions:
            _sessions.popitem()[1].close()


class _StagedProgress:
    """The job's Progress, with the worker's device and host after every stage name."""

    def __init__(self, progress: Any, where: Any) -> None:
        self._progress = progress
        self._where = where

    def __getattr__(self, name: str) -> Any:
        return getattr(self._progress, name)

    def set_stage(self, name: str, steps: int | None = None) -> None:
        where = self._where()
        self._progress.set_stage(f"{name} · {where}" if where else name, steps)


class RemoteTarget:
    """Runs a job's Operation on the worker at ``address`` (see the module docstring)."""

    def __init__(self, address: str, tls_dir: str, model_spec: str | None, device: str | None = None) -> None:
        self.address = address
        self.tls_dir = tls_dir
        self.model_spec = model_spec
        self.device = None if device in (None, "auto") else device

    def __call__(self, job: Any, progress: Any) -> Any:
        from latent_atelier.app.qt.operations.inputs import resolve_placements
        from latent_atelier.app.qt.placement.geometry import PlacementRequest
        from latent_atelier.app.remote.addresses import RemoteSetupError
        from latent_atelier.app.remote.session import RemoteWorkerLost

        op, params = job.operation, job.params
        try:
            session = _session(self.address, self.tls_dir)
            wants = op.wants_generator(params)
            if wants:
                info = session.model_info(self.model_spec, self.device)
                if op.archs and info["arch"] not in op.archs:
                    raise OperationError(
                        f"{op.title or op.name} needs a {' or '.join(op.archs)} model; the "
                        f"worker's model is {info['arch']}: load another with Model > Load model…"
                    )
                resolve_placements(job.inputs, int(info["resolution"]))
            else:
                for key, value in list(job.inputs.items()):
                    if isinstance(value, PlacementRequest):
                        job.inputs[key] = None
            staged = _StagedProgress(progress, lambda: getattr(session, "where", ""))
            result = session.run(
                op.name,
                job.inputs,
                params,
                staged,
                spec=self.model_spec,
                device=self.device,
                needs_model=wants,
            )
            job.context["where"] = session.where
            return result
        except (RemoteWorkerLost, RemoteSetupError) as exc:  # messages that say what to do
            raise OperationError(str(exc)) from None


def remote_target_for(preferences: Any, manager: Any) -> RemoteTarget | None:
    """The hook for a new job: None when the preference says to run jobs here."""
    address = (getattr(preferences, "worker_address", "") or "").strip()
    if not address:
        return None
    return RemoteTarget(
        address,
        getattr(preferences, "worker_tls_dir", "") or "",
        getattr(manager, "spec", None),
        getattr(manager, "device", None),
    )
