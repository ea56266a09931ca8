"""The safelist (contract section 6): `manage.py export-operations` writes the SDK's operations
as a manifest; with GRAPHQL_SAFELIST only those run, whether sent in full or by hash."""

from __future__ import annotations

import ast
import hashlib
import json
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import print_ast
from starlette.applications import Starlette

from core.settings import Settings, SettingsError
from manage import main
from server.persisted import PersistedOperations
from tests.conftest import PASSWORD, Accounts, error_codes
from tests.test_client import sdk_for  # first: it puts the SDK's folder on sys.path
from tests.test_graphql_requests import full_view

# isort: off
from client import operations
# isort: on

OWN = "query Mine { __typename }"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@pytest.fixture
def manifest_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "operations.json"
    assert main(["export-operations", "--output", str(path)]) == 0
    return path


TS_GENERATED = Path(__file__).resolve().parent.parent / "client-ts/src/generated/graphql.ts"


def ts_sent() -> dict[str, str]:
    """What the TypeScript client sends, by operation: each generated constant's string
    literal (read here as a Python literal, line by line, not by the parser under test)."""
    documents = {}
    for line in TS_GENERATED.read_text().splitlines():
        if line.startswith("export const ") and "Document = " in line:
            name, _, rest = line.removeprefix("export const ").partition(" = ")
            literal, _, _ = rest.rpartition(" as TypedDocument<")
            documents[name] = ast.literal_eval(literal)
    return documents


def test_export_operations_writes_both_clients_documents_by_their_hashes(
    manifest_path: Path,
) -> None:
    manifest = json.loads(manifest_path.read_text())
    sent = [print_ast(request.document) for request in operations.ALL]  # what gql sends
    typescript = ts_sent()
    assert len(typescript) >= 30
    assert manifest == {sha(text): text for text in [*sent, *typescript.values()]}
    assert any(text.startswith("query Me {") for text in manifest.values())
    assert sha(typescript["MeDocument"]) in manifest


def test_export_operations_prints_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-operations"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert all(key == sha(text) for key, text in printed.items())


def test_a_manifest_that_lies_refuses_to_start(settings: Settings, tmp_path: Path) -> None:
    lying = tmp_path / "lying.json"
    lying.write_text(json.dumps({sha("{ me { id } }"): "mutation { logout }"}))
    for path in (lying, tmp_path / "absent.json"):
        with pytest.raises(SettingsError):
            PersistedOperations(settings.with_(graphql_safelist=str(path)))


def test_serve_refuses_a_bad_manifest_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text('{"not-a-hash": "{ me { id } }"}')
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    for path in (tmp_path / "bad.json", tmp_path / "absent.json"):
        monkeypatch.setenv("GRAPHQL_SAFELIST", str(path))
        assert main(["serve", "--port", "9"]) == 2  # BAD_INPUT, nothing served
        assert "GRAPHQL_SAFELIST" in capsys.readouterr().err


@pytest.fixture(params=[False, True], ids=["no-bypass", "admin-bypass"])
def settings(request: pytest.FixtureRequest, settings: Settings, manifest_path: Path) -> Settings:
    """Every test here runs against a server safelisted with the SDK's manifest."""
    return settings.with_(
        graphql_safelist=str(manifest_path), graphql_safelist_admin_bypass=request.param
    )


async def token(accounts: Accounts, email: str, role: str) -> str:
    """Signed in through the SDK's own login document (a free-form one would be refused)."""
    await accounts.user(email, role=role)
    login = print_ast(operations.LOGIN.document)
    answer = await accounts.gql.http.post(
        "/graphql", json={"query": login, "variables": {"email": email, "password": PASSWORD}}
    )
    return str(answer.json()["data"]["login"]["accessToken"])


async def run(
    http: httpx.AsyncClient, body: dict[str, Any], bearer: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return await http.post("/graphql", json=body, headers=headers)


def refused(response: httpx.Response) -> bool:
    body = response.json()
    return response.status_code == 400 and error_codes(body) == ["QUERY_NOT_IN_SAFELIST"]


@pytest.mark.parametrize("path", ["short", "full"])
async def test_the_sdk_documents_run_and_others_are_refused(
    app: Starlette, client: httpx.AsyncClient, accounts: Accounts, path: str
) -> None:
    user = await token(accounts, "user@example.com", "user")
    health = print_ast(operations.HEALTH.document)
    by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(health)}}}
    with full_view(app) if path == "full" else nullcontext():
        assert "status" in (await run(client, {"query": health}, user)).json()["data"]["health"]
        assert "status" in (await run(client, by_hash)).json()["data"]["health"]
        assert refused(await run(client, {"query": OWN}, user))
        # the same operation spelled otherwise is another document
        assert refused(await run(client, {"query": health + " "}, user))
        # registering a document by hash does not get it past the list
        own = {"version": 1, "sha256Hash": sha(OWN)}
        assert refused(await run(client, {"query": OWN, "extensions": {"persistedQuery": own}}))


async def test_the_typescript_clients_documents_run(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    user = await token(accounts, "user@example.com", "user")
    me = ts_sent()["MeDocument"]
    answer = await run(client, {"query": me, "operationName": "Me"}, user)
    assert answer.json()["data"]["me"]["email"] == "user@example.com"


async def test_admins_pass_only_with_the_bypass(
    app: Starlette, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    admin = await token(accounts, "admin@example.com", "admin")
    bypass = app.state.services.settings.graphql_safelist_admin_bypass
    answer = await run(client, {"query": OWN}, admin)
    if bypass:
        assert answer.json() == {"data": {"__typename": "Query"}}
    else:
        assert refused(answer)
    assert refused(await run(client, {"query": OWN}))  # anonymous: never


async def test_the_sdk_works_against_a_safelisted_server(
    app: Starlette, accounts: Accounts
) -> None:
    """The manifest holds what the SDK really sends (gql prints each document first)."""
    await accounts.user("admin@example.com", role="admin")
    async with sdk_for(app) as api:
        await api.login("admin@example.com", PASSWORD)
        me = await api.get_current_user()
        page = await api.list_users(per_page=5)
        assert me["email"] == "admin@example.com"
        assert [user["email"] for user in page["items"]] == ["admin@example.com"]
