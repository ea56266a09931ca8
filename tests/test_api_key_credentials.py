"""An API key cannot manage credentials (password, e-mail, second factor, API keys, sessions):
every such operation answers FORBIDDEN to a key, on both transports, and changes nothing.

Every root field of the schema is classified below, so a new field fails
`test_every_root_field_is_classified` until someone decides whether a key may call it.
"""

from __future__ import annotations

from typing import Any

import httpx
from graphql import GraphQLObjectType

from schema import build_schema
from tests.conftest import PASSWORD, Accounts, GraphQLClient, error_codes
from tests.rest_helpers import bearer, data_of, error_of

NEW = "another long passphrase"
# field -> (document, variables); `$me` in variables stands for the key owner's id.
CREDENTIAL_OPERATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "changePassword": (
        "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }",
        {"c": PASSWORD, "n": NEW},
    ),
    "requestEmailVerification": ("mutation { requestEmailVerification }", {}),
    "changeEmail": (
        "mutation($p: String!, $e: String!) { changeEmail(password: $p, newEmail: $e) }",
        {"p": PASSWORD, "e": "taken-over@example.com"},
    ),
    "mySessions": ("{ mySessions { id } }", {}),
    "userSessions": ("query($u: ID!) { userSessions(userId: $u) { id } }", {"u": "$me"}),
    "revokeSession": ("mutation($id: ID!) { revokeSession(id: $id) }", {"id": "$session"}),
    "revokeUserSessions": ("mutation($u: ID!) { revokeUserSessions(userId: $u) }", {"u": "$me"}),
    "logout": ("mutation { logout }", {}),
    "logoutAll": ("mutation { logoutAll }", {}),
    "myApiKeys": ("{ myApiKeys { id } }", {}),
    "createApiKey": ('mutation { createApiKey(name: "more") { secret } }', {}),
    "revokeApiKey": ("mutation($id: ID!) { revokeApiKey(id: $id) }", {"id": "$key"}),
    # A password or an address set through the admin's door: the key's own account included.
    "updateUser": (
        "mutation($id: ID!, $p: String!) { updateUser(id: $id, input: {password: $p}) { id } }",
        {"id": "$me", "p": NEW},
    ),
    # The second factor (contract section 6), walked once its fields are served.
    "enrollTotp": (
        "mutation($p: String!) { enrollTotp(password: $p) { secret } }",
        {"p": PASSWORD},
    ),
    "confirmTotp": ('mutation { confirmTotp(code: "123456") { codes } }', {}),
    "disableTotp": (
        'mutation($p: String!) { disableTotp(password: $p, code: "123456") }',
        {"p": PASSWORD},
    ),
    "regenerateRecoveryCodes": (
        'mutation($p: String!) { regenerateRecoveryCodes(password: $p, code: "123456") { codes } }',
        {"p": PASSWORD},
    ),
    "resetMfa": ("mutation($u: ID!) { resetMfa(userId: $u) }", {"u": "$me"}),
}
# Fields a key may call: its owner's reads and admin work, and the public doors, which take
# their own credential (a password, a mailed token, a refresh token) and ignore the caller's.
KEY_MAY_CALL = {
    "Query": {"me", "user", "users", "exportJob", "health", "auditEvents"},
    "Mutation": {
        "register", "login", "refresh", "requestPasswordReset", "resetPassword", "verifyEmail",
        "verifyMfa", "createUser", "deleteUser", "exportUsers", "restoreUser", "exportAuditEvents",
    },
}  # fmt: skip


def root_fields(root: str) -> set[str]:
    root_type = build_schema()._schema.type_map[root]
    assert isinstance(root_type, GraphQLObjectType)
    return set(root_type.fields)


def test_every_root_field_is_classified() -> None:
    for root in ("Query", "Mutation"):
        unclassified = root_fields(root) - set(CREDENTIAL_OPERATIONS) - KEY_MAY_CALL[root]
        assert unclassified == set(), f"{root}: may an API key call {sorted(unclassified)}?"


async def _owner_with_a_key(accounts: Accounts, gql: GraphQLClient) -> dict[str, str]:
    """An admin signed in with a session and holding a key: the key would be allowed anything
    an admin may do, so only the credential rule can refuse it."""
    token = await accounts.admin_token()
    me = (await gql("{ me { id } }", token=token))["data"]["me"]["id"]
    made = await gql('mutation { createApiKey(name: "ci") { secret apiKey { id } } }', token=token)
    session = (await gql("{ mySessions { id } }", token=token))["data"]["mySessions"][0]["id"]
    new = made["data"]["createApiKey"]
    return {
        "token": token,
        "secret": new["secret"],
        "$me": me,
        "$key": new["apiKey"]["id"],
        "$session": session,
    }


async def test_every_credential_operation_refuses_a_key_and_changes_nothing(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    held = await _owner_with_a_key(accounts, gql)
    served = root_fields("Query") | root_fields("Mutation")
    walked = [name for name in CREDENTIAL_OPERATIONS if name in served]
    assert len(walked) >= 13
    for name in walked:
        document, variables = CREDENTIAL_OPERATIONS[name]
        sent = {k: held.get(str(v), v) for k, v in variables.items()}
        answer = await gql(document, sent, token=held["secret"])
        assert error_codes(answer) == ["FORBIDDEN"], (name, answer)
    # Nothing moved: the session, the key and the password are as they were.
    mine = await gql("{ myApiKeys { id } mySessions { id } }", token=held["token"])
    assert mine["data"] == {
        "myApiKeys": [{"id": held["$key"]}],
        "mySessions": [{"id": held["$session"]}],
    }
    await accounts.login("admin@example.com", PASSWORD)
    assert "errors" not in await gql("{ me { id } }", token=held["secret"])


async def test_the_rest_doors_to_credentials_refuse_a_key(
    accounts: Accounts, gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    held = await _owner_with_a_key(accounts, gql)
    key = bearer(held["secret"])
    error_of(await client.post("/auth/logout", headers=key), 403, "FORBIDDEN")
    error_of(await client.post("/auth/logout-all", headers=key), 403, "FORBIDDEN")
    own = f"/users/{held['$me']}"
    error_of(await client.patch(own, json={"password": NEW}, headers=key), 403, "FORBIDDEN")
    error_of(await client.put(own, json={"email": "x@example.com"}, headers=key), 403, "FORBIDDEN")
    renamed = data_of(await client.patch(own, json={"name": "Renamed"}, headers=key))
    assert renamed["name"] == "Renamed"  # admin work that is not a credential goes on
    assert data_of(await client.get("/auth/me", headers=bearer(held["token"])))["name"] == "Renamed"
    await accounts.login("admin@example.com", PASSWORD)
