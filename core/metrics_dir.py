"""The folder where processes of one container share metric values (PROMETHEUS_MULTIPROC_DIR).

prometheus-client picks file-backed values when a metric is created, so this runs before
`core.metrics` is imported: the CLI calls it first thing for `serve` and `worker`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir(*, required: bool) -> Path | None:
    """Empty the folder named by PROMETHEUS_MULTIPROC_DIR (values of earlier runs would be added
    to this run's), or make a fresh one when `required` (several processes) and none is named."""
    given = os.environ.get(VARIABLE)
    if not given:
        if not required:
            return None
        given = tempfile.mkdtemp(prefix="metrics-")
        os.environ[VARIABLE] = given
    folder = Path(given)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # only prometheus-client's files: the folder may hold more
        stale.unlink(missing_ok=True)
    return folder


def mark_dead(pid: int | None) -> None:
    """Drop a finished process's live gauges (its counters stay: totals never go back)."""
    if pid is None or VARIABLE not in os.environ:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
