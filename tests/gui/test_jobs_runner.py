"""The job runner: a queue, one job at a time, throttled reports, cancel, errors."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest

from latent_atelier.app.qt.jobs.job import Job, eta_seconds, format_eta, format_metrics, is_out_of_memory
from latent_atelier.app.qt.jobs.job_panel import JobPanel
from latent_atelier.app.qt.jobs.runner import JobRunner
from latent_atelier.editors.operation import Operation, OperationError, Progress, Result, param


@dataclass
class CountParams:
    steps: int = param(10, 1, 100000, "how many steps")
    delay: float = param(0.0, 0.0, 1.0, "seconds per step")
    fail: str = param("", help="raise this kind of error at step 2")


class CountOperation(Operation):
    """Counts steps, sends previews and metrics; can fail on purpose."""

    name = "count"
    title = "Count"
    Params = CountParams
    needs_generator = False

    def run(self, gen, inputs, params: CountParams, progress: Progress) -> Result:
        for i in range(1, params.steps + 1):
            if i == 2 and params.fail == "value":
                raise ValueError("broken on purpose")
            if i == 2 and params.fail == "operation":
                raise OperationError("paint a mask first")
            if i == 2 and params.fail == "oom":
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            preview = np.full((8, 8, 3), i / params.steps, np.float32) if progress.wants_preview() else None
            progress.step(i, params.steps, preview=preview, metrics={"loss": 1.0 / i})
            if params.delay:
                time.sleep(params.delay)
        return Result({"count": params.steps})


def job(**params) -> Job:
    return Job(CountOperation(), {}, CountParams(**params))


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    r.cancel_all()
    r.wait()


def test_jobs_run_one_at_a_time_in_order_and_the_queue_is_visible(qtbot, runner):
    panel = JobPanel(runner)
    qtbot.addWidget(panel)
    order: list[str] = []
    runner.started.connect(lambda j: order.append(f"start {j.id}"))
    runner.finished.connect(lambda j, _r: order.append(f"end {j.id}"))
    a, b = job(steps=20, delay=0.01), job(steps=3)
    runner.submit(a)
    runner.submit(b)
    assert runner.current is a and runner.queued == [b]
    assert panel.queue_list.count() == 1
    with qtbot.waitSignal(runner.idle, timeout=20_000):
        pass
    assert order == [f"start {a.id}", f"end {a.id}", f"start {b.id}", f"end {b.id}"]
    assert panel.queue_list.count() == 0 and not runner.busy


def test_cancel_stops_within_one_step_and_a_queued_job_never_starts(qtbot, runner):
    started: list[Job] = []
    runner.started.connect(started.append)
    cancelled: list[Job] = []
    runner.cancelled.connect(cancelled.append)
    a, b = job(steps=1000, delay=0.005), job(steps=3)
    runner.submit(a)
    runner.submit(b)
    runner.cancel(b)
    assert cancelled == [b] and runner.queued == []
    qtbot.waitUntil(lambda: len(runner._thread.progress.history) >= 5, timeout=10_000)
    thread = runner._thread
    with qtbot.waitSignal(runner.cancelled, timeout=10_000):
        runner.cancel()
        at_cancel = thread.progress.history[-1][0]
    assert thread.progress.history[-1][0] <= at_cancel + 1
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    assert started == [a] and cancelled == [b, a]


@pytest.mark.parametrize(
    ("fail", "expect", "has_details"),
    [
        ("value", "ValueError: broken on purpose", True),
        ("operation", "paint a mask first", False),
        ("oom", "ran out of memory", True),
    ],
)
def test_errors_become_messages_with_details(qtbot, runner, fail, expect, has_details):
    with qtbot.waitSignal(runner.failed, timeout=10_000) as blocker:
        runner.submit(job(steps=5, fail=fail))
    _job, message, details = blocker.args
    assert expect in message
    assert bool(details) == has_details
    if fail == "oom":
        assert "CPU" in message and "smaller placement" in message
        assert "Traceback" in details
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)


def test_reports_are_throttled_but_the_last_step_always_arrives(qtbot, runner):
    progress: list[int] = []
    previews: list[float] = []
    runner.progressed.connect(lambda _j, s, n, st, m, eta: progress.append(s))
    runner.preview.connect(lambda _j, img: previews.append(time.monotonic()))
    t0 = time.monotonic()
    with qtbot.waitSignal(runner.finished, timeout=30_000) as blocker:
        runner.submit(job(steps=20000))
    elapsed = time.monotonic() - t0
    assert blocker.args[1].outputs == {"count": 20000}
    assert progress[-1] == 20000
    assert len(progress) < 2000  # 20000 steps, far fewer GUI updates (~25/s)
    assert len(previews) <= elapsed / 0.1 + 2  # at most ~10 previews a second


def test_panel_shows_progress_eta_and_metrics(qtbot, runner):
    panel = JobPanel(runner)
    qtbot.addWidget(panel)
    seen: list[str] = []
    runner.progressed.connect(lambda *_: seen.append(panel.metrics_label.text()))
    with qtbot.waitSignal(runner.finished, timeout=20_000):
        runner.submit(job(steps=30, delay=0.01))
    assert any(text.startswith("loss ") for text in seen)
    assert panel.progress_bar.value() == panel.progress_bar.maximum()
    assert "done" in panel.title_label.text()


def test_eta_and_formatting():
    assert eta_seconds(10, 100, 5.0) == pytest.approx(45.0)
    assert eta_seconds(0, 100, 5.0) is None
    assert format_eta(65) == "ETA 1:05"
    assert format_eta(3725) == "ETA 1:02:05"
    assert format_eta(None) == ""
    assert format_metrics({"psnr": 24.123, "loss": 0.0123}) == "psnr 24.12  loss 0.0123"
    assert is_out_of_memory(RuntimeError("CUDA out of memory"))
    assert not is_out_of_memory(ValueError("bad value"))


def test_the_bar_counts_within_a_stage_that_says_its_length(qtbot) -> None:
    """W+ has 3 steps and noise 2: the bar reads 'W+: 3 / 3', then 'noise: 2 / 2', never
    'W+: n / 5'; a stage without a length says its count is over the whole run."""
    from latent_atelier.app.qt.jobs.job import Job
    from latent_atelier.app.qt.jobs.job_panel import JobPanel
    from latent_atelier.app.qt.jobs.runner import JobRunner
    from latent_atelier.editors.operation import Operation, Result

    class Staged(Operation):
        name = "staged"

        def run(self, gen, inputs, params, progress):  # type: ignore[no-untyped-def]
            def step(i: int) -> None:
                time.sleep(0.06)  # past the runner's progress throttle: every step is shown
                progress.step(i, 6)

            progress.set_stage("W+", 3)
            for i in range(3):
                step(i + 1)
            progress.set_stage("noise", 2)
            for i in range(2):
                step(3 + i + 1)
            progress.set_stage("refine")
            step(6)
            return Result({})

    runner = JobRunner()
    panel = JobPanel(runner)
    qtbot.addWidget(panel)
    shown: list[str] = []
    runner.stage_progressed.connect(lambda *_: shown.append(panel.progress_bar.text()))
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.submit(Job(Staged(), {}, None))
    assert "W+: 3 / 3" in shown and "noise: 2 / 2" in shown
    assert not any(text.startswith("W+") and text.endswith("/ 6") for text in shown)
    assert shown[-1] == "refine · 6 / 6 steps in all"
