"""Whether this process is shutting down: set by the server runner on SIGTERM, read by /ready.

Process-wide on purpose: it describes the process, not a request or an app instance.
"""

from __future__ import annotations

import threading

DRAINING = threading.Event()
