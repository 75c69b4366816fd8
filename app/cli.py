"""``latent-atelier-cli``: one sub-command per registered Operation, plus model tools.

Sub-commands are generated from each Operation's Slots (positional first input, the rest
as ``--<slot> FILE``) and Params (``--<param> VALUE`` with its range and help), so the CLI
and the GUI never drift apart.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latent_atelier.app.cli_batch import BATCH_KINDS, add_batch_args, batch_files
from latent_atelier.app.cli_io import (
    InputError,
    check_output_dir,
    fallback_dir,
    finite_float,
    read_input,
    write_output,
)
from latent_atelier.app.cli_native_logs import native_logs_hidden
from latent_atelier.app.quality_presets import (
    BEST,
    PRESET_HELP,
    PRESETS,
    default_preset,
    preset_values,
    step_fields,
)
from latent_atelier.editors.operation import (
    Cancelled,
    Operation,
    OperationError,
    Progress,
    param_specs,
    validate_params,
)
from latent_atelier.models.checkpoints import CheckpointError
from latent_atelier.models.devices import DeviceUnavailableError
from latent_atelier.models.perceptual import PerceptualWeightsError

#: errors about the user's files, settings or machine: reported in one line, exit status 2
USER_ERRORS = (
    OperationError,
    InputError,
    ValueError,  # ValueError: image/latent/trimap errors
    CheckpointError,
    DeviceUnavailableError,
    PerceptualWeightsError,
    OSError,  # a missing, unreadable or unwritable file or folder (PermissionError, FileExistsError...)
)

EXTRA_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {}


def extra_command(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None]):
    """Register a non-Operation sub-command: decorates ``run(args) -> int``;
    ``configure(parser)`` adds its arguments."""

    def wrap(fn):
        EXTRA_COMMANDS[name] = (help, configure, fn)
        return fn

    return wrap


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _slot_help(slot: Any) -> str:
    """'mask file (required): the missing region' style help for an input slot."""
    what = "a file" if slot.kind == "file" else f"{slot.kind} file"
    required = "" if slot.optional else " (required)"
    return f"{what}{required}: {slot.help}" if slot.help else f"{what}{required}"


def _finite_floats(parser: argparse.ArgumentParser) -> None:
    """Every plain float option of ``parser`` refuses NaN and infinity (e.g. train --lr nan)."""
    for action in parser._actions:
        if action.type is float:
            action.type = finite_float


def _add_operation_parser(sub: argparse._SubParsersAction, op_cls: type[Operation]) -> None:
    op = op_cls()
    p = sub.add_parser(op.name, help=op.title, description=op.description or op.title)
    first, *rest = op.inputs or (None,)
    if first is not None:
        many = first.kind in BATCH_KINDS  # several photos make a batch (app/cli_batch.py)
        p.add_argument(
            first.name,
            help=f"{first.kind} file{'(s)' if many else ''}: {first.help}".strip(": "),
            nargs=("*" if first.optional else "+") if many else ("?" if first.optional else None),
        )
    for slot in rest:
        p.add_argument(_flag(slot.name), dest=slot.name, metavar="FILE", help=_slot_help(slot))
    step_names = {s.name for s in step_fields(param_specs(op.Params))}
    if step_names:
        p.add_argument(
            "--quality",
            choices=(*PRESETS, "auto"),
            default="auto",
            help="step counts for the --steps-* options not given: draft (at most 100 a "
            "phase), standard (300), best (the defaults below); auto: draft on a "
            "CPU, best on a GPU, as in the app",
        )
    for spec in param_specs(op.Params):
        rng = "" if spec.low is None else f" [{spec.low}..{spec.high}]"
        shown = spec.default if spec.default != "" else "none"
        helptext = f"{spec.help}{rng} (default {shown})"
        if spec.name in step_names:  # None: not given, the quality preset decides
            p.add_argument(
                _flag(spec.name),
                dest=spec.name,
                type=spec.type,
                default=None,
                help=f"{spec.help}{rng} (best quality: {spec.default})",
            )
            continue
        if spec.type is bool:
            p.add_argument(
                _flag(spec.name),
                dest=spec.name,
                action=argparse.BooleanOptionalAction,
                default=spec.default,
                help=helptext,
            )
        else:
            p.add_argument(
                _flag(spec.name),
                dest=spec.name,
                type=spec.type,
                default=spec.default,
                choices=spec.choices,
                help=helptext,
            )
    p.add_argument("--out-dir", default="out", help="folder for the results (default ./out)")
    add_batch_args(p)
    p.set_defaults(_operation=op.name)


def _model_args(p: argparse.ArgumentParser, default: Any = None) -> None:
    """The global options. The top-level parser gets ``default=None``; every sub-command gets
    them again with ``argparse.SUPPRESS``, so they are accepted before or after the command
    (``--model M sample`` and ``sample --model M``) and one never overwrites the other."""
    _add_global(
        p,
        "--model",
        default,
        "checkpoint (.safetensors, rosinality/FurryGAN .pt, NVIDIA .pkl) or "
        "random:<arch>:<size>[:seed]; default: the bundled demo model",
    )
    _add_global(p, "--device", default, "cpu, cuda, cuda:N or mps (default: best available)")
    _add_global(
        p,
        "--threads",
        default,
        "CPU threads for torch (default: every core, or $LATENT_ATELIER_THREADS / $OMP_NUM_THREADS)",
    )
    _add_global(
        p,
        "--precision",
        default,
        "auto (bf16 where the CPU/GPU runs it natively and "
        "the model is large), float32 or bf16: the dtype of the optimisation loops",
    )


def _add_global(p: argparse.ArgumentParser, flag: str, default: Any, helptext: str) -> None:
    """Add a global option unless the (sub-)command defines its own of that name."""
    if flag not in p._option_string_actions:
        p.add_argument(flag, default=default, help=helptext)


def _accept_global_options(sub: argparse._SubParsersAction) -> None:
    """Give every sub-command the global options too (see :func:`_model_args`)."""
    for p in sub.choices.values():
        _model_args(p, default=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, built from the registry."""
    from latent_atelier.editors.registry import all_operations

    parser = argparse.ArgumentParser(prog="latent-atelier-cli", description=__doc__.split("\n")[0])
    _model_args(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for op_cls in all_operations().values():
        _add_operation_parser(sub, op_cls)
    import latent_atelier.app.cli_commands  # noqa: F401  (registers sample, info, train, ...)

    for name, (helptext, configure, _fn) in sorted(EXTRA_COMMANDS.items()):
        p = sub.add_parser(name, help=helptext, description=helptext)
        configure(p)
        _finite_floats(p)
    _accept_global_options(sub)
    return parser


class TerminalProgress:
    """A tqdm bar per stage, with the latest metrics in its postfix."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._bar = None
        self._stage = None
        self.progress = Progress(self._on_step, preview_interval_s=1e9)

    def _on_step(self, i: int, n: int, _preview: Any, metrics: dict[str, float]) -> None:
        stage = self.progress.stage
        i, n = self.progress.in_stage(i, n)  # "W+: 89/300", not 89/600, when the stage says
        if self._bar is None or stage != self._stage or n != self._bar.total:
            self.close()
            self._bar = self._tqdm(
                total=n,
                desc=stage or "working",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=True,
                initial=max(0, i - 1),
            )
            self._stage = stage
        self._bar.update(i - self._bar.n)
        if metrics:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()}, refresh=False)

    def close(self) -> None:
        """Finish the current bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def needs_model(op: Operation, params: Any, args: argparse.Namespace) -> bool:
    """Whether to load a model: a run with ``params`` needs one (``Operation.wants_generator``,
    as in the GUI), or a latent file was given (it only means something to its generator)."""
    return op.wants_generator(params) or any(
        slot.kind == "latent" and getattr(args, slot.name, None) is not None for slot in op.inputs
    )


def _quality_steps(op: Operation, args: argparse.Namespace, values: dict[str, Any]) -> dict[str, int]:
    """Step counts the command line left open, from ``--quality`` (auto: draft on a CPU)."""
    specs = param_specs(op.Params)
    missing = [s.name for s in step_fields(specs) if values.get(s.name) is None]
    if not missing:
        return {}
    quality = getattr(args, "quality", "auto")
    if quality == "auto":
        from latent_atelier.models.devices import pick_device

        on_cpu = pick_device(args.device).type == "cpu" if op.needs_generator else True
        quality = default_preset(on_cpu)
    chosen = preset_values(specs, quality)
    if quality != BEST:
        print(
            f"note: quality {quality}: {PRESET_HELP[quality]} ({', '.join(_flag(n) for n in missing)} "
            "not given; --quality best for the full counts)",
            file=sys.stderr,
        )
    return {name: chosen[name] for name in missing}


def _read_inputs_before_the_model(op: Operation, args: argparse.Namespace) -> dict[str, Any]:
    """Every input but latents, read before the (slow) model load so that a missing or broken
    file is reported at once; a missing required input names its option."""
    first = op.inputs[0].name if op.inputs else None
    inputs: dict[str, Any] = {}
    for slot in op.inputs:
        path = getattr(args, slot.name, None)
        if path is None:
            if not slot.optional:
                how = (
                    f"the {slot.name} file (first argument)"
                    if slot.name == first
                    else f"{_flag(slot.name)} FILE"
                )
                raise InputError(f"{op.name}: {how} is required ({slot.help or slot.kind})")
            continue
        if slot.kind == "latent":
            if not Path(path).is_file():
                raise InputError(f"{path}: no such file")
            continue
        inputs[slot.name] = read_input(slot, path, None)
    return inputs


def run_operation(args: argparse.Namespace) -> int:
    """Load inputs, run the operation with a progress bar, write outputs, print metrics."""
    from latent_atelier.editors.registry import get_operation

    op = get_operation(args._operation)
    values = {s.name: getattr(args, s.name) for s in param_specs(op.Params)}
    values.update(_quality_steps(op, args, values))
    params = op.Params(**values)
    validate_params(params)
    check_output_dir(args.out_dir)
    for note in op.advice(params):
        print(f"note: {note}", file=sys.stderr)
    files = batch_files(op, args)
    if files is not None:
        from latent_atelier.app.cli_batch import run_batch_command

        return run_batch_command(op, params, args, files, _write_results, needs_model(op, params, args))
    inputs = _read_inputs_before_the_model(op, args)
    gen = None
    if needs_model(op, params, args):
        from latent_atelier.models.devices import pick_device
        from latent_atelier.models.zoo import load_model

        device = pick_device(args.device)
        t0 = time.perf_counter()
        gen = load_model(args.model, device)
        from latent_atelier.models.devices import compute_policy, search_dtype

        dtype = str(search_dtype(device, gen)).removeprefix("torch.")
        print(
            f"model: {gen.arch} {gen.resolution}px on {device} ({time.perf_counter() - t0:.1f}s); "
            f"{compute_policy().threads} CPU threads, optimisation in {dtype}",
            file=sys.stderr,
        )
        if op.archs and gen.arch not in op.archs:
            raise OperationError(f"{op.name} needs a {' or '.join(op.archs)} model, not {gen.arch}")
    for slot in op.inputs:  # latents are read against the loaded model
        path = getattr(args, slot.name, None)
        if path is not None and slot.kind == "latent":
            inputs[slot.name] = read_input(slot, path, gen)
    op.check_inputs(inputs)
    bar = TerminalProgress()
    t0 = time.perf_counter()
    try:
        result = op.run(gen, inputs, params, bar.progress)
    finally:
        bar.close()
    elapsed = time.perf_counter() - t0
    out_dir = Path(args.out_dir)
    try:
        written = _write_results(op, result, out_dir)
    except OSError as exc:  # a full disk, a folder removed or locked during the run
        fallback = fallback_dir(op.name)
        written = _write_results(op, result, fallback)
        for path in written:
            print(f"wrote {path}")
        print(
            f"error: could not write the results to {out_dir} ({_os_message(exc)}); "
            f"they were saved to {fallback} instead",
            file=sys.stderr,
        )
        return 2
    for path in written:
        print(f"wrote {path}")
    for key, value in result.metrics.items():
        print(f"{key}: {metric_text(value)}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"time: {elapsed:.1f}s")
    return 0


def metric_text(value: Any) -> str:
    """A metric as printed: counts as integers ("faces: 1"), other numbers with 4 decimals."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _write_results(op: Operation, result: Any, out_dir: Path) -> list[Path]:
    written: list[Path] = []
    known = {s.name: s for s in op.outputs}
    for name, value in result.outputs.items():
        slot = known.get(name)
        if slot is None:
            from latent_atelier.editors.operation import Slot

            slot = Slot(name, "placement" if hasattr(value, "to_dict") else "file")
        written += write_output(slot, value, out_dir)
    return written


def _os_message(exc: OSError) -> str:
    """``path: reason`` of an OSError, without errno noise."""
    if exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return exc.strerror or str(exc)


def _is_decompression_bomb(exc: BaseException) -> bool:
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(exc, pil.DecompressionBombError)


def _apply_compute_policy(args: argparse.Namespace) -> None:
    """Set torch's threads and the search precision from ``--threads`` / ``--precision``
    (a command with options of its own, like ``train``, applies them itself)."""
    from latent_atelier.models.devices import check_precision, check_threads, set_compute_policy

    if getattr(args, "command", None) == "train":
        return
    threads = getattr(args, "threads", None)
    precision = getattr(args, "precision", None)
    set_compute_policy(
        None if threads is None else check_threads(threads, "--threads"),
        None if precision is None else check_precision(precision, "--precision"),
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``latent-atelier-cli``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _apply_compute_policy(args)
        if getattr(args, "_operation", None):
            with native_logs_hidden():  # the face library's glog/TFLite lines
                return run_operation(args)
        _help, _configure, fn = EXTRA_COMMANDS[args.command]
        return int(fn(args) or 0)
    except Cancelled:
        print("cancelled: nothing was written", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except MemoryError:
        print(
            "error: not enough memory for this run: use a smaller image or model, or fewer variants",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:
        print(f"error: {_os_message(exc)}", file=sys.stderr)
        return 2
    except USER_ERRORS as exc:  # each carries a message that says what to do
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if _is_decompression_bomb(exc):
            print(f"error: the image is too large to open safely ({exc})", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    raise SystemExit(main())
