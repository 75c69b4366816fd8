"""The job panel: progress bar with stage and ETA, live metrics, the queue, Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from latent_atelier.app.qt.jobs.job import Job, format_eta, format_metrics
from latent_atelier.app.qt.jobs.progress_widget import LightProgressBar
from latent_atelier.app.qt.jobs.runner import JobRunner


class JobPanel(QWidget):
    """Shows what the runner does; Cancel stops the running job within one step."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.title_label = QLabel("No job running")
        self.title_label.setObjectName("job_title")
        self.progress_bar = LightProgressBar()
        self.progress_bar.setObjectName("job_progress")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.eta_label = QLabel("")
        self.metrics_label = QLabel("")
        self.metrics_label.setObjectName("job_metrics")
        self.metrics_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_job")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: self.runner.cancel())
        self.queue_list = QListWidget()
        self.queue_list.setObjectName("job_queue")
        self.queue_list.setMaximumHeight(60)
        self.queue_list.setVisible(False)

        row = QHBoxLayout()
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addLayout(row)
        layout.addWidget(self.eta_label)
        layout.addWidget(self.metrics_label)
        layout.addWidget(self.queue_list)

        runner.started.connect(self._on_started)
        runner.progressed.connect(self._on_progress)
        runner.stage_progressed.connect(self._on_stage_progress)
        runner.finished.connect(self._on_finished)
        runner.cancelled.connect(lambda job: self._on_end(job, "cancelled"))
        runner.failed.connect(lambda job, msg, _d: self._on_end(job, "failed"))
        runner.queue_changed.connect(self._refresh_queue)

    def _on_started(self, job: Job) -> None:
        self.title_label.setText(f"Running: {job.title}")
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("starting…")
        self.eta_label.setText("starting…")
        self.metrics_label.setText("")
        self.cancel_button.setEnabled(True)

    def _on_progress(self, job: Job, step: int, total: int, stage: str, metrics: object, eta: object) -> None:
        if job is not self.runner.current:
            return
        self.eta_label.setText(format_eta(eta))  # type: ignore[arg-type]
        self.metrics_label.setText(format_metrics(metrics))  # type: ignore[arg-type]

    def _on_stage_progress(self, job: Job, stage: str, step: int, total: int, known: bool) -> None:
        """The bar counts within the stage when the stage said its length ("W+: 89 / 300");
        otherwise it counts over the whole run and says so."""
        if job is not self.runner.current:
            return
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(min(step, max(1, total)))
        if known or not stage:
            self.progress_bar.setFormat(f"{stage + ': ' if stage else ''}%v / %m")
        else:
            self.progress_bar.setFormat(f"{stage} · %v / %m steps in all")

    def _on_finished(self, job: Job, result: object) -> None:
        """Done: the run's final metrics replace the last step's (they are measured on the
        finished result, e.g. with the noise maps it ended with)."""
        if self._on_end(job, "done"):
            final = getattr(result, "metrics", None)
            if final:
                self.metrics_label.setText(f"final: {format_metrics(final)}")

    def _on_end(self, job: Job, how: str) -> bool:
        """Show how ``job`` ended; False when another job's end is not ours to show."""
        if job is not self.runner.current and self.runner.current is not None:
            return False
        self.title_label.setText(f"{job.title}: {how}")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1 if how == "done" else 0)
        self.progress_bar.setFormat("%p%")
        self.eta_label.setText("")
        self.cancel_button.setEnabled(bool(self.runner.queued))
        return True

    def _refresh_queue(self) -> None:
        self.queue_list.clear()
        for job in self.runner.queued:
            self.queue_list.addItem(f"waiting: {job.title}")
        self.queue_list.setVisible(self.queue_list.count() > 0)
        self.cancel_button.setEnabled(self.runner.busy)
