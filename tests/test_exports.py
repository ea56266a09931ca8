"""Admin exports: the CSV format, filters, the job lifecycle on both backends and on every export
storage (local, database, s3 against a real S3 API server), and lost workers."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.csv_export import HEADER, neutralise
from core.errors import AppError
from core.settings import Settings
from persistence import exports as jobs_repo
from persistence.export_storage import open_storage
from persistence.users import UserQuery
from resolvers import exports
from resolvers.deps import Caller, Principal, Services
from tests.conftest import Accounts, GraphQLClient, error_codes
from tests.jobs_helpers import rq_worker, run_jobs
from tests.storage_helpers import STORAGES, stored_bytes, stored_names, with_storage

START = "mutation($f: UserFilter) { exportUsers(filter: $f) { id status } }"
JOB = (
    "query($id: ID!) { exportJob(id: $id) { id status rowCount downloadUrl error finishedAt "
    "requestedBy { email } } }"
)


@pytest.fixture(params=STORAGES)
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Every test of this module on each export storage (EXPORT_STORAGE)."""
    endpoint = request.getfixturevalue("s3_endpoint") if request.param == "s3" else None
    return with_storage(settings, str(request.param), endpoint)


class LaterClock:
    def __init__(self, seconds: float) -> None:
        self.at = datetime.now(UTC) + timedelta(seconds=seconds)

    def now(self) -> datetime:
        return self.at


def admin_caller(services: Services, user_id: int) -> Caller:
    return Caller(request_id="t", principal=Principal(user_id, "admin", "s"))


def test_cells_that_spreadsheets_would_run_are_neutralised() -> None:
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(cell) == "'" + cell
    assert neutralise("plain") == "plain"
    assert neutralise("a=b") == "a=b"


async def wait_for_status(
    gql: GraphQLClient, token: str, job_id: str, *statuses: str, timeout: float = 20
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        job = (await gql(JOB, {"id": job_id}, token=token))["data"]["exportJob"]
        if job["status"] in statuses:
            return dict(job)
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.05)


@pytest.fixture
def permissive_umask() -> Any:
    """The usual umask (022): a file created without a mode is readable by every local user."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.storages("local")
async def test_export_files_are_readable_by_their_owner_only(
    gql: GraphQLClient, accounts: Accounts, settings: Any, backend: str, permissive_umask: None
) -> None:
    admin = await accounts.admin_token()
    started = (await gql(START, {}, token=admin))["data"]["exportUsers"]
    await run_jobs(settings, backend)
    job = await wait_for_status(gql, admin, started["id"], "FINISHED", "FAILED")
    assert job["status"] == "FINISHED", job
    path = Path(settings.export_dir) / f"{started['id']}.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"admin@example.com" in path.read_bytes()


async def test_export_lifecycle_and_csv(
    gql: GraphQLClient, accounts: Accounts, settings: Any, backend: str, client: Any
) -> None:
    """On MySQL the job runs in an rq worker process: the download is served by an instance
    that did not run it, streamed from the storage."""
    admin = await accounts.admin_token()
    await accounts.user("quote@example.com", name='Smith, "Jo"')
    await accounts.user("formula@example.com", name='=HYPERLINK("x")')
    await accounts.user("ünï@example.com", name="Zoë Ünicode")
    started = (await gql(START, {}, token=admin))["data"]["exportUsers"]
    assert started["status"] in ("QUEUED", "STARTED", "FINISHED")
    await run_jobs(settings, backend)
    job = await wait_for_status(gql, admin, started["id"], "FINISHED", "FAILED")
    assert job["status"] == "FINISHED", job
    assert job["rowCount"] == 4
    assert job["downloadUrl"] == f"/admin/jobs/{started['id']}/download"
    assert job["requestedBy"] == {"email": "admin@example.com"}
    download = await client.get(job["downloadUrl"], headers={"Authorization": f"Bearer {admin}"})
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="users-{started["id"]}.csv"' in download.headers["content-disposition"]
    content = download.content
    assert content == await stored_bytes(accounts.services, f"{started['id']}.csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    assert tuple(rows[0]) == HEADER
    assert [r[2] for r in rows[1:]] == [
        "admin@example.com",
        "quote@example.com",
        "formula@example.com",
        "ünï@example.com",
    ]
    assert [int(r[0]) for r in rows[1:]] == sorted(int(r[0]) for r in rows[1:])
    assert rows[2][1] == 'Smith, "Jo"'
    assert b'"Smith, ""Jo"""' in content
    assert rows[3][1] == '\'=HYPERLINK("x")'
    assert datetime.fromisoformat(rows[1][4]).utcoffset() == timedelta(0)
    assert rows[1][5] == "true"
    assert content.endswith(b"\r\n")


async def test_export_applies_the_filter(
    gql: GraphQLClient, accounts: Accounts, settings: Any, backend: str
) -> None:
    admin = await accounts.admin_token()
    for i in range(3):
        await accounts.user(f"keep{i}@keep.io", name=f"Keep {i}")
    await accounts.user("drop@example.com")
    started = (await gql(START, {"f": {"email": "@KEEP.io"}}, token=admin))["data"]["exportUsers"]
    await run_jobs(settings, backend)
    job = await wait_for_status(gql, admin, started["id"], "FINISHED", "FAILED")
    assert job["rowCount"] == 3


async def test_exports_are_admin_only_and_unknown_jobs_not_found(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    user = await accounts.token_for("u@example.com")
    admin = await accounts.admin_token()
    assert error_codes(await gql(START, {}, token=user)) == ["FORBIDDEN"]
    assert error_codes(await gql(JOB, {"id": "nope"}, token=user)) == ["FORBIDDEN"]
    assert error_codes(await gql(JOB, {"id": "nope"}, token=admin)) == ["NOT_FOUND"]


@pytest.mark.storages("local")  # a folder that cannot be made
async def test_a_failing_job_ends_failed_with_the_error(
    accounts: Accounts, settings: Any, backend: str, tmp_path: Path
) -> None:
    """A job whose file cannot be written is retried, then recorded as FAILED."""
    services = accounts.services
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the export folder should be")
    admin = await accounts.user("a@example.com", role="admin")
    services.settings = settings.with_(export_dir=str(blocker / "exports"), export_max_attempts=2)
    services.exports = open_storage(services.settings, services.db)
    job = await exports.request_export(
        services, admin_caller(services, admin.id), query=UserQuery()
    )
    await run_jobs(
        services.settings, backend, EXPORT_DIR=str(blocker / "exports"), EXPORT_MAX_ATTEMPTS="2"
    )
    await asyncio.sleep(0.2)
    async with services.db.transaction() as session:
        first = await jobs_repo.get(session, job.id)
    assert first is not None
    assert (first.status, first.attempts) == ("queued", 1)  # backing off before attempt 2
    services.clock = LaterClock(60)
    await exports.sweep(services)
    await run_jobs(
        services.settings, backend, EXPORT_DIR=str(blocker / "exports"), EXPORT_MAX_ATTEMPTS="2"
    )
    await asyncio.sleep(0.2)
    async with services.db.transaction() as session:
        final = await jobs_repo.get(session, job.id)
    assert final is not None
    assert (final.status, final.attempts) == ("failed", 2)
    assert final.error is not None
    assert "NotADirectoryError" in final.error or "FileExistsError" in final.error
    assert str(tmp_path) not in final.error  # no server paths in what admins read


@pytest.mark.mysql_only  # the queue outage is a Redis outage
async def test_job_accepted_while_queue_is_down_runs_when_it_returns(
    accounts: Accounts, settings: Any, backend: str
) -> None:
    services = accounts.services
    admin = await accounts.user("a@example.com", role="admin")
    healthy_queue = services.queue
    services.queue = type(healthy_queue)(settings.with_(redis_url="redis://127.0.0.1:1/0"))
    job = await exports.request_export(
        services, admin_caller(services, admin.id), query=UserQuery()
    )
    async with services.db.transaction() as session:
        row = await jobs_repo.get(session, job.id)
    assert row is not None
    assert (row.status, row.enqueued_at) == ("queued", None)  # accepted, not handed off
    services.queue = healthy_queue  # Redis is back
    await exports.sweep(services)
    await run_jobs(settings, backend)
    async with services.db.transaction() as session:
        done = await jobs_repo.get(session, job.id)
    assert done is not None
    assert (done.status, done.row_count) == ("finished", 1)


async def seed_many(services: Services, count: int) -> None:
    from sqlalchemy import text

    async with services.db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (name, email, password_hash, role, is_active, token_version, "
                "version, created_at, updated_at) SELECT CONCAT('n', seq), CONCAT('e', seq, '@x.io'),"
                f" 'x', 'user', 1, 0, 1, NOW(6), NOW(6) FROM seq_1_to_{count}"
            )
        )


@pytest.mark.mysql_only  # signals go to a real rq worker process
async def test_sigterm_lets_the_worker_finish_its_job(
    accounts: Accounts, settings: Any, backend: str
) -> None:
    services = accounts.services
    admin = await accounts.user("a@example.com", role="admin")
    await seed_many(services, 150_000)
    job = await exports.request_export(
        services, admin_caller(services, admin.id), query=UserQuery()
    )
    worker = rq_worker(settings, burst=False)
    try:
        for _ in range(600):
            async with services.db.transaction() as session:
                row = await jobs_repo.get(session, job.id)
            if row is not None and row.status != "queued":
                break
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 120)
    finally:
        if worker.poll() is None:
            worker.kill()
    async with services.db.transaction() as session:
        done = await jobs_repo.get(session, job.id)
    assert done is not None
    assert (done.status, done.row_count) == ("finished", 150_001)


@pytest.mark.mysql_only  # a real rq worker process, killed while it runs the job
async def test_a_killed_workers_job_is_retried(
    accounts: Accounts, settings: Any, backend: str
) -> None:
    services = accounts.services
    admin = await accounts.user("a@example.com", role="admin")
    await seed_many(services, 150_000)
    job = await exports.request_export(
        services, admin_caller(services, admin.id), query=UserQuery()
    )
    worker = rq_worker(settings)  # rq's SimpleWorker: the job runs in this very process
    try:
        for _ in range(600):
            async with services.db.transaction() as session:
                row = await jobs_repo.get(session, job.id)
            if row is not None and row.status == "started":
                break
            await asyncio.sleep(0.05)
        assert worker.poll() is None, "the worker finished before it could be killed"
        worker.kill()  # SIGKILL: no cleanup, no status written
        await asyncio.to_thread(worker.wait, 30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == -signal.SIGKILL
    async with services.db.transaction() as session:
        lost = await jobs_repo.get(session, job.id)
    assert lost is not None and (lost.status, lost.attempts) == ("started", 1)
    real_clock = services.clock
    services.clock = LaterClock(settings.export_lease + 1)
    await exports.sweep(services)  # no heartbeat for a lease: back to QUEUED with a backoff
    services.clock = LaterClock(settings.export_lease + 60)
    await exports.sweep(services)  # backoff over: enqueued again
    # The app's own background sweep shares these services: with the clock still moved on,
    # it would take the retry's fresh heartbeat for a lost worker too.
    services.clock = real_clock
    await run_jobs(settings, backend)
    async with services.db.transaction() as session:
        done = await jobs_repo.get(session, job.id)
    assert done is not None
    assert (done.status, done.attempts, done.row_count) == ("finished", 2, 150_001)


async def test_a_job_whose_worker_was_lost_is_retried(
    accounts: Accounts, settings: Any, backend: str
) -> None:
    """The sweep's half of a lost worker, on both backends: a claimed job whose lease ran out
    (the killed process is the test above, on MySQL)."""
    services = accounts.services
    admin = await accounts.user("a@example.com", role="admin")
    job = await exports.request_export(
        services, admin_caller(services, admin.id), query=UserQuery()
    )
    if backend == "embedded":
        await asyncio.sleep(0.3)  # the in-process worker finishes it; simulate a lost worker
    async with services.db.transaction() as session:  # a worker claimed it, then died
        if backend == "mysql":
            assert await jobs_repo.claim(session, job.id, services.clock.now())
        else:
            from sqlalchemy import update

            from persistence.models import ExportJob

            await session.execute(
                update(ExportJob)
                .where(ExportJob.id == job.id)
                .values(status="started", attempts=1, heartbeat_at=services.clock.now())
            )
    services.clock = LaterClock(settings.export_lease + 1)
    await exports.sweep(services)  # lease expired: back to QUEUED with a backoff
    services.clock = LaterClock(settings.export_lease + 60)
    await exports.sweep(services)  # backoff over: enqueued again
    await run_jobs(settings, backend)
    await asyncio.sleep(0.3)
    async with services.db.transaction() as session:
        done = await jobs_repo.get(session, job.id)
    assert done is not None
    assert (done.status, done.attempts) == ("finished", 2)


async def test_running_a_job_twice_gives_one_file(accounts: Accounts, settings: Any) -> None:
    services = accounts.services
    admin = await accounts.user("a@example.com", role="admin")
    job = await exports.request_export(
        services, admin_caller(services, admin.id), query=UserQuery()
    )
    results = await asyncio.gather(
        exports.run_export(services, job.id), exports.run_export(services, job.id)
    )
    # At most one runner claims it (the in-process worker may be the one, in the embedded mode).
    assert sorted(map(str, results)) in (["None", "finished"], ["None", "None"])
    for _ in range(200):
        async with services.db.transaction() as session:
            row = await jobs_repo.get(session, job.id)
        if row is not None and row.status == "finished":
            break
        await asyncio.sleep(0.05)
    assert row is not None
    assert (row.status, row.attempts) == ("finished", 1)
    await exports.run_export(services, job.id)  # a late duplicate delivery changes nothing
    assert await stored_names(services) == [f"{job.id}.csv"]


async def test_files_are_removed_after_retention(accounts: Accounts, settings: Any) -> None:
    services = accounts.services
    admin = await accounts.user("a@example.com", role="admin")
    job = await exports.request_export(
        services, admin_caller(services, admin.id), query=UserQuery()
    )
    await exports.run_export(services, job.id)
    for _ in range(100):  # the in-process worker may be the runner (embedded)
        async with services.db.transaction() as session:
            row = await jobs_repo.get(session, job.id)
        if row is not None and row.status == "finished":
            break
        await asyncio.sleep(0.05)
    assert await stored_names(services) == [f"{job.id}.csv"]
    services.clock = LaterClock(settings.export_retention + 1)
    await exports.sweep(services)
    assert await stored_names(services) == []
    with pytest.raises(AppError) as refused:
        await exports.job_download(services, admin_caller(services, admin.id), job_id=job.id)
    assert refused.value.code.value == "NOT_FOUND"


@pytest.mark.mysql_only  # RQ's own records of a real rq worker
@pytest.mark.storages("local")  # a folder that cannot be made fails every try
async def test_an_export_failed_after_its_last_try_is_failed_in_rq(
    accounts: Accounts, settings: Any, backend: str, tmp_path: Path
) -> None:
    import redis
    from rq import Queue
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    services = accounts.services
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the export folder should be")
    admin = await accounts.user("a@example.com", role="admin")
    job = await exports.request_export(
        services, admin_caller(services, admin.id), query=UserQuery()
    )
    await run_jobs(settings, backend, EXPORT_DIR=str(blocker / "exports"), EXPORT_MAX_ATTEMPTS="1")
    async with services.db.transaction() as session:
        row = await jobs_repo.get(session, job.id)
    assert row is not None and row.status == "failed"
    with redis.Redis.from_url(settings.redis_url) as connection:
        queue = Queue(settings.rq_queue, connection=connection)
        failed = [queue.fetch_job(i) for i in FailedJobRegistry(queue=queue).get_job_ids()]
        finished = FinishedJobRegistry(queue=queue).get_job_ids()
        assert [rq_job.args for rq_job in failed if rq_job is not None] == [(job.id,)]
        assert finished == []
        result = failed[0].latest_result() if failed[0] is not None else None
        assert result is not None and "ExportFailed" in (result.exc_string or "")
