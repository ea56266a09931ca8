"""The command line (the legacy name): serve, migrate, create-admin, seed-data, worker, export-schema,
export-operations.
Expected failures print one line to stderr and exit non-zero, without a traceback: 1 for a
refused operation (email taken, database unreachable), 2 for bad input or configuration."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import re
import secrets
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import AppError, ErrorCode
from core.metrics_dir import prepare_metrics_dir
from core.settings import Settings, SettingsError

if TYPE_CHECKING:
    from resolvers.deps import Services

ROOT = Path(__file__).resolve().parent
BAD_INPUT, REFUSED = 2, 1


def fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def positive(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def check_database_url(settings: Settings) -> None:
    """Refuse a DATABASE_URL no driver serves before any command opens it."""
    from sqlalchemy.exc import ArgumentError

    from persistence.db import async_url

    try:
        async_url(settings.database_url)
    except (ArgumentError, ValueError) as exc:  # the messages name the scheme, never the password
        raise SettingsError(f"invalid configuration: DATABASE_URL: {exc}") from exc


def describe(error: AppError) -> str:
    """One line for an operator: the code, the message, and for an outage the driver's reason."""
    line = f"{error.code.value}: {error.message}"
    if error.code is not ErrorCode.SERVICE_UNAVAILABLE:
        return line
    cause = error.__cause__
    reason = str(getattr(cause, "orig", None) or cause or "").strip().splitlines()
    if reason:
        line += f": {reason[0]}"
    return line + "; check DATABASE_URL and run `python manage.py migrate` first"


def serve(settings: Settings, args: argparse.Namespace) -> int:
    from server.main import serve as run_one
    from server.main import serve_workers

    if settings.graphql_safelist:  # refused here, before any worker starts
        from server.persisted import load_manifest

        load_manifest(settings.graphql_safelist)
    url = f"http://{args.host}:{args.port}"
    print(f"Serving on {url}  (GraphQL: POST {url}/graphql)")
    if settings.graphiql:
        print(f"GraphiQL: open {url}/graphql in a browser")
    print("No admin yet? python manage.py create-admin --name NAME --email EMAIL")
    if args.workers > 1:
        serve_workers(settings, args.host, args.port, args.workers)
    else:
        run_one(settings, args.host, args.port)
    return 0


def migrate(settings: Settings, args: argparse.Namespace) -> int:
    from persistence.migrate import downgrade, upgrade

    try:
        if args.downgrade:
            downgrade(settings.database_url, args.downgrade)
        else:
            upgrade(settings.database_url)
    except Exception as exc:  # an unreachable or refusing database: one line, no traceback
        return fail(f"migrate failed: {type(exc).__name__}: {str(exc).splitlines()[0]}", REFUSED)
    print("database is at", args.downgrade or "head")
    return 0


async def _with_services(
    settings: Settings, work: Callable[[Services], Coroutine[Any, Any, int]]
) -> int:
    from resolvers.bootstrap import bootstrap

    async with bootstrap(settings) as services:
        return await work(services)


def admin_password(args: argparse.Namespace) -> str:
    """`--password` (argv shows in `ps`), stdin's first line, or else twice at a silent prompt."""
    if args.password is not None:
        return str(args.password)
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        typed, again = getpass.getpass("Password: "), getpass.getpass("Password (again): ")
    except EOFError:  # no terminal and nothing on stdin
        typed = again = ""  # refused below by the password policy
    if typed != again:
        raise AppError(ErrorCode.VALIDATION_ERROR, details={"password": ["The two typed differ"]})
    return typed


def create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from resolvers.accounts import create_account

    password = admin_password(args)

    async def work(services: Services) -> int:
        user = await create_account(
            services, name=args.name, email=args.email, password=password, role="admin"
        )
        print(f"admin {user.email} created with id {user.id}")
        return 0

    return asyncio.run(_with_services(settings, work))


FIRST_NAMES = ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Margaret", "Ken")
LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Allen")


def demo_name(i: int) -> str:
    """64 distinct names from the two lists, then the same with a number."""
    lap, index = divmod(i - 1, len(FIRST_NAMES) * len(LAST_NAMES))
    last, first = divmod(index, len(FIRST_NAMES))
    name = f"{FIRST_NAMES[first]} {LAST_NAMES[last]}"
    return f"{name} {lap + 1}" if lap else name


def seed_data(settings: Settings, args: argparse.Namespace) -> int:
    from persistence import users as users_repo
    from resolvers.accounts import create_account

    password = secrets.token_urlsafe(12)

    async def work(services: Services) -> int:
        created = 0
        for i in range(1, args.count + 1):
            email = f"user{i}@example.com"
            async with services.db.transaction() as session:
                if await users_repo.get_by_email(session, email) is not None:
                    continue
            await create_account(
                services, name=demo_name(i), email=email, password=password, role="user"
            )
            created += 1
        print(
            f"{created} demo users created"
            + (f"; their password is {password}" if created else " (they all existed already)")
        )
        return 0

    return asyncio.run(_with_services(settings, work))


def worker(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.worker import healthy, main

    if not args.check:
        return main(settings, burst=args.burst)
    return 0 if healthy(settings) else fail("no worker of this host beat lately", REFUSED)


def export_schema(settings: Settings, args: argparse.Namespace) -> int:
    from schema import build_schema

    text = build_schema().as_str() + "\n"
    target = Path(args.output)
    if args.check:
        if not target.exists() or target.read_text() != text:
            return fail(f"{target} is stale: run `python manage.py export-schema`", REFUSED)
        print(f"{target} is up to date")
        return 0
    target.write_text(text)
    print(f"wrote {target}")
    return 0


def sdk_documents() -> list[str]:
    """The SDK's operations, each as the SDK sends it (gql prints the parsed document)."""
    sys.path.insert(0, str(ROOT / "client"))
    from client.operations import ALL
    from graphql import print_ast

    return [print_ast(request.document) for request in ALL]


# One generated TypeScript document: `export const MeDocument = "query Me {...}" as TypedDocument<`;
# its literal is JSON (codegen writes it with JSON.stringify).
_TS_DOCUMENT = re.compile(
    r'^export const \w+Document = ("(?:[^"\\]|\\.)*") as TypedDocument<', re.M
)


def ts_documents() -> list[str]:
    """The TypeScript client's operations, each the exact text it sends (client-ts/src/generated),
    or none when that folder is not there."""
    generated = ROOT / "client-ts" / "src" / "generated" / "graphql.ts"
    if not generated.exists():
        return []
    return [json.loads(literal) for literal in _TS_DOCUMENT.findall(generated.read_text())]


def export_operations(settings: Settings, args: argparse.Namespace) -> int:
    """The safelist manifest (`{sha256: document}`) of both clients' operations (the Python SDK's
    and the TypeScript client's), for GRAPHQL_SAFELIST."""
    import orjson

    from server.persisted import manifest_of

    documents = sdk_documents() + ts_documents()
    text = orjson.dumps(manifest_of(documents), option=orjson.OPT_INDENT_2).decode()
    if args.output == "-":
        print(text)
        return 0
    Path(args.output).write_text(text + "\n")
    print(f"wrote {args.output}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="manage.py", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the API server")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=positive, default=1)
    run.set_defaults(handler=serve)
    mig = commands.add_parser("migrate", help="upgrade the database to the latest schema")
    mig.add_argument("--downgrade", metavar="REVISION", help="downgrade instead (e.g. base)")
    mig.set_defaults(handler=migrate)
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--name", required=True)
    admin.add_argument("--email", required=True)
    secret = admin.add_mutually_exclusive_group()
    secret.add_argument("--password", help="for scripts only: argv is visible in ps and history")
    secret.add_argument("--password-stdin", action="store_true", help="its first line of stdin")
    admin.set_defaults(handler=create_admin)
    seed = commands.add_parser("seed-data", help="create demo users (idempotent)")
    seed.add_argument("--count", type=positive, default=20)
    seed.set_defaults(handler=seed_data)
    work = commands.add_parser("worker", help="run the export worker (RQ; needs REDIS_URL)")
    work.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    work.add_argument("--check", action="store_true", help="health: this host's worker beats")
    work.set_defaults(handler=worker)
    sdl = commands.add_parser("export-schema", help="write schema.graphql from the code")
    sdl.add_argument("--output", default=str(ROOT / "schema.graphql"))
    sdl.add_argument("--check", action="store_true", help="fail when the file is stale")
    sdl.set_defaults(handler=export_schema)
    ops = commands.add_parser(
        "export-operations", help="write both clients' operations as a safelist manifest"
    )
    ops.add_argument("--output", default="-", help="a file (default: standard output)")
    ops.set_defaults(handler=export_operations)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.handler in (serve, worker):  # before any metric exists: see core/metrics_dir.py
        prepare_metrics_dir(required=args.handler is worker or args.workers > 1)
    try:
        settings = Settings.from_env()
        check_database_url(settings)
    except SettingsError as exc:
        return fail(str(exc), BAD_INPUT)
    try:
        code: int = args.handler(settings, args)
    except AppError as error:
        if error.code is ErrorCode.VALIDATION_ERROR:
            problems = "; ".join(
                f"{field}: {', '.join(messages)}"
                for field, messages in (error.details or {}).items()
            )
            return fail(f"{error.code.value}: {problems or error.message}", BAD_INPUT)
        return fail(describe(error), REFUSED)
    except SettingsError as exc:  # found while opening what the settings name (a safelist)
        return fail(str(exc), BAD_INPUT)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
