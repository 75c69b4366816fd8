"""The CLI's batch mode: one Operation over many photos, on local worker processes or remote
workers (``--worker ADDRESS``), through :mod:`latent_atelier.app.remote.batch`.

``latent-atelier-cli matte photos/*.jpg --out-dir out/ [--workers 2]`` writes each photo's
results to ``out/<photo name>/`` as soon as it is done; running the same command again skips
the photos that are already done.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from latent_atelier.app.cli_io import InputError, read_input
from latent_atelier.editors.operation import Operation, OperationError

BATCH_KINDS = ("image", "rgba")  # a first input of these kinds takes many files
MAX_LOCAL_WORKERS = 4


def add_batch_args(p: argparse.ArgumentParser) -> None:
    """The options of an Operation's sub-command that choose where a batch runs."""
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes for several files (default: one per CPU core, "
        f"at most {MAX_LOCAL_WORKERS})",
    )
    for flag, env, metavar, help_text in (
        (
            "--worker",
            "LATENT_ATELIER_WORKER",
            "ADDRESS",
            "run on the remote worker at ADDRESS (tcp://127.0.0.1:8786 on this "
            "machine, tls://host:8786 elsewhere; default $LATENT_ATELIER_WORKER)",
        ),
        (
            "--tls-dir",
            "LATENT_ATELIER_TLS_DIR",
            "DIR",
            "folder with ca.pem, client.pem, client-key.pem for a tls:// "
            "worker (from `latent-atelier-worker --make-certs`)",
        ),
    ):  # each defaults to its environment variable
        p.add_argument(flag, default=os.environ.get(env) or None, metavar=metavar, help=help_text)


def default_workers() -> int:
    """One local worker per CPU core, at most MAX_LOCAL_WORKERS."""
    return max(1, min(MAX_LOCAL_WORKERS, os.cpu_count() or 1))


def run_batch_command(
    op: Operation,
    params: Any,
    args: argparse.Namespace,
    files: list[str],
    write_results: Any,
    wants_model: bool,
) -> int:
    """Run ``op`` over ``files``; prints a summary; 0 when every file worked, 1 otherwise."""
    from latent_atelier.app.remote.batch import BatchReport, plan_batch, run_batch
    from latent_atelier.app.remote.session import RemoteSession

    first, *rest = op.inputs
    shared = {}
    for slot in rest:  # the other inputs are the same for every photo
        path = getattr(args, slot.name, None)
        if path is None:
            continue
        if slot.kind == "latent":
            raise InputError(
                f"--{slot.name.replace('_', '-')}: a latent belongs to one photo; run that photo on its own"
            )
        shared[slot.name] = read_input(slot, path)

    def read_one(path: Path) -> dict[str, Any]:
        inputs = {first.name: read_input(first, str(path)), **shared}
        op.check_inputs(inputs)
        return inputs

    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise InputError(f"not a file: {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers must be at least 1")
    plan = plan_batch(op.name, files, params, args.out_dir, args.model)
    if not plan.todo:
        print(BatchReport(skipped=plan.skipped).summary())
        return 0
    if args.worker:
        session = RemoteSession.connect(args.worker, args.tls_dir)
    else:
        session = RemoteSession.local(args.workers or default_workers())
    with session:
        if wants_model:
            info = session.model_info(args.model, args.device)
            print(
                f"model: {info['arch']} {info['resolution']}px on {info['device']} on "
                f"{info['host']} ({session.label})",
                file=sys.stderr,
            )
            if op.archs and info["arch"] not in op.archs:
                raise OperationError(f"{op.name} needs a {' or '.join(op.archs)} model, not {info['arch']}")
        try:
            report = run_batch(
                op,
                plan,
                read_one,
                lambda result, folder: write_results(op, result, folder),
                session,
                model=args.model,
                device=args.device,
                needs_model=wants_model,
            )
        except KeyboardInterrupt:
            print(
                "interrupted: the photos written so far are kept; run the same command again "
                "to go on with the rest",
                file=sys.stderr,
            )
            return 130
    print(report.summary())
    return 1 if report.failed else 0


def batch_files(op: Operation, args: argparse.Namespace) -> list[str] | None:
    """The files of a batch run (several photos, or any run on ``--worker``); None for a plain
    single-file run, whose first input then becomes that one file as before."""
    if not op.inputs or op.inputs[0].kind not in BATCH_KINDS:
        return None
    name = op.inputs[0].name
    files = getattr(args, name, None)
    if not isinstance(files, list):
        return None
    if len(files) > 1 or (files and getattr(args, "worker", None)):
        return files
    setattr(args, name, files[0] if files else None)
    return None
