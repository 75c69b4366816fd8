"""After a run, the job panel shows the metrics the run reports, not its last step's."""

from __future__ import annotations

from latent_atelier.app.qt.jobs.job import format_metrics


def test_the_panel_ends_with_the_runs_final_metrics(qtbot, window, ops) -> None:
    panel = ops.panel.job_panel
    page = ops.panel.select("embed")
    page.form.set_values({"steps_w": 3, "steps_noise": 3})
    during: list[str] = []
    ops.runner.progressed.connect(lambda *_: during.append(panel.metrics_label.text()))
    with qtbot.waitSignal(ops.runner.finished, timeout=120_000) as blocker:
        ops.panel.run_button.click()
    result = blocker.args[1]
    qtbot.wait(50)  # the panel's own slot has run
    assert result.metrics
    shown = panel.metrics_label.text()
    assert shown == f"final: {format_metrics(result.metrics)}"
    assert "psnr" in shown and shown not in during
    assert "done" in panel.title_label.text()
