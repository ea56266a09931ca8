"""The CSV export of every user to a file, through `resolvers.exports.stream_users_csv`.

Run by the runner in its own process, so its peak RSS is the export's alone:

    python -m bench.export_probe OUT.csv ADMIN_ID          # the synchronous stream
    python -m bench.export_probe OUT.csv ADMIN_ID --job    # a job into EXPORT_STORAGE, then its
                                                           # download streamed back out of it

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
from resolvers import exports
from resolvers.bootstrap import bootstrap
from resolvers.deps import Caller, Principal, Services
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


async def export_job(out: Path, admin_id: int) -> dict[str, float]:
    """What a worker and then an API instance do: the job writes the CSV into the storage,
    the download reads it back as a stream (written to `out`); both in this process."""
    settings = Settings.from_env()
    caller = Caller(
        request_id="bench-export", principal=Principal(admin_id, "admin", "bench-session")
    )
    async with bootstrap(settings) as services:
        started = time.perf_counter()
        job = await exports.request_export(services, caller, query=UserQuery())
        assert await exports.run_export(services, job.id) == "finished"
        written = time.perf_counter()
        size, lines = await _download(services, caller, job.id, out)
        read = time.perf_counter()
        await services.exports.delete(exports.file_name(job.id))
    return {
        "rows": lines - 1,
        "bytes": size,
        "seconds": read - started,
        "write_seconds": written - started,
        "read_seconds": read - written,
        "vmhwm_kib": peak_rss_kib(),
    }


async def _download(services: Services, caller: Caller, job_id: str, out: Path) -> tuple[int, int]:
    size = lines = 0
    _, chunks = await exports.job_download(services, caller, job_id=job_id)
    with out.open("wb") as file:
        async for chunk in chunks:
            file.write(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")  # a piece may end between the \r and the \n of a line
    return size, lines


def main() -> None:
    out, admin_id = Path(sys.argv[1]), int(sys.argv[2])
    probe = export_job if "--job" in sys.argv[3:] else export
    print(orjson.dumps(asyncio.run(probe(out, admin_id))).decode())


if __name__ == "__main__":
    main()
