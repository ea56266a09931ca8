"""The CSV export of every user to a file, through `resolvers.exports.stream_users_csv`.

Run by the runner in its own process, so its peak RSS is the export's alone:

    python -m bench.export_probe OUT.csv ADMIN_ID

It prints one JSON line (rows, bytes, seconds, and this process's VmHWM); the runner also reads
the child's `ru_maxrss` from `os.wait4`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import orjson

from core.settings import Settings
from persistence.users import UserQuery
from resolvers.bootstrap import bootstrap
from resolvers.deps import Caller, Principal
from resolvers.exports import stream_users_csv


def peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


async def export(out: Path, admin_id: int) -> dict[str, float]:
    settings = Settings.from_env()
    caller = Caller(
        request_id="bench-export",
        principal=Principal(user_id=admin_id, role="admin", session_id="bench"),
    )
    started = time.perf_counter()
    size = lines = 0
    async with bootstrap(settings) as services:
        with out.open("wb") as file:
            async for chunk in await stream_users_csv(services, caller, query=UserQuery()):
                file.write(chunk)
                size += len(chunk)
                lines += chunk.count(b"\r\n")
    return {
        "rows": lines - 1,
        "bytes": size,
        "seconds": time.perf_counter() - started,
        "vmhwm_kib": peak_rss_kib(),
    }


def main() -> None:
    out, admin_id = Path(sys.argv[1]), int(sys.argv[2])
    print(orjson.dumps(asyncio.run(export(out, admin_id))).decode())


if __name__ == "__main__":
    main()
