"""Running operations on a worker thread: the job, the runner with its queue, the panel."""
