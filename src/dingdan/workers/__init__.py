"""Workers: deliver the outbox (notifications, webhooks, broker events) with retries and
dead letters, and run the timed jobs (SLA scan, payment timeouts, auto-complete).

Public surface: :class:`Worker` (one loop step at a time, or :meth:`Worker.run`),
:func:`running_worker` and :func:`in_process_worker` (inside the server), :func:`run_worker`
(``dingdan worker``), :func:`build_channels` and :func:`worker_config`.
"""

from dingdan.workers.channels import build_channels
from dingdan.workers.config import WorkerConfig, worker_config
from dingdan.workers.process import in_process_worker, run_worker, running_worker
from dingdan.workers.runner import Worker

__all__ = ["Worker", "WorkerConfig", "build_channels", "in_process_worker", "run_worker",
           "running_worker", "worker_config"]
