"""Generated inputs: the token verifier, and schemathesis against schema.graphql on a live server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from schemathesis.core.result import Ok

from core import tokens
from core.errors import AppError, ErrorCode
from core.settings import Settings
from tests.conftest import PASSWORD, TEST_SECRET, base_settings, seed_accounts

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = base_settings(database_url="sqlite:///unused.db")
NOW = datetime.now(UTC)
VALID = tokens.encode(
    SETTINGS,
    "access",
    user_id=1,
    session_id="s",
    jti="j",
    token_version=0,
    fingerprint="",
    issued_at=NOW,
    expires_at=NOW + timedelta(minutes=5),
)
REFUSALS = {ErrorCode.TOKEN_INVALID, ErrorCode.TOKEN_EXPIRED}


def refused(token: str, token_type: Any = "access") -> ErrorCode | None:
    try:
        tokens.decode(SETTINGS, token, token_type, now=NOW)
    except AppError as error:
        return error.code
    return None


@examples(max_examples=300, derandomize=True)
@given(st.text(max_size=400))
def test_arbitrary_text_is_refused_with_a_token_code(token: str) -> None:
    assert refused(token) in REFUSALS


@examples(max_examples=300, derandomize=True)
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.characters(codec="ascii"))
def test_a_changed_character_is_never_accepted(position: int, character: str) -> None:
    tampered = VALID[:position] + character + VALID[position + 1 :]
    if tampered != VALID and tampered.split(".") != VALID.split("."):
        assert refused(tampered) in REFUSALS
    assert refused(VALID) is None
    assert refused(VALID, "refresh") is ErrorCode.TOKEN_INVALID


@examples(max_examples=100, derandomize=True)
@given(
    st.dictionaries(
        st.sampled_from(["iss", "aud", "sub", "jti", "exp", "typ", "sid", "tv"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=20)),
        max_size=8,
    )
)
def test_signed_but_malformed_claims_are_refused(claims: dict[str, Any]) -> None:
    import json

    from jwt.api_jws import PyJWS

    # Signed with the right key, so only the claim checks stand between it and a principal.
    token = PyJWS().encode(json.dumps(claims).encode(), TEST_SECRET, algorithm="HS256")
    assert refused(token) in REFUSALS


def token(http: httpx.Client, email: str) -> str:
    body = http.post(
        "/graphql",
        json={
            "query": "mutation($e: String!, $p: String!) { login(email:"
            " $e, password: $p) { accessToken } }",
            "variables": {"e": email, "p": PASSWORD},
        },
    ).json()
    return str(body["data"]["login"]["accessToken"])


SKIPPED = {"Mutation.logout", "Mutation.logoutAll"}  # they would end the run's own sessions


def test_schemathesis_finds_no_server_errors(settings: Settings, live_server: str) -> None:
    seed_accounts(settings)
    schema = schemathesis.graphql.from_path(str(ROOT / "schema.graphql"))
    with httpx.Client(base_url=live_server, headers={"User-Agent": "fuzz"}, timeout=10) as http:
        headers = [
            {"Authorization": f"Bearer {token(http, email)}"}
            for email in ("admin@example.com", "user@example.com")
        ]
        failures: list[str] = []
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()
            operation = result.ok()
            if operation.label in SKIPPED:
                continue

            @examples(
                max_examples=12,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(), who=st.sampled_from([0, 1]))
            def check(case: Any, who: int) -> None:
                document = {"query": case.body} if isinstance(case.body, str) else case.body
                response = http.post("/graphql", json=document, headers=headers[who])
                body = response.json()
                codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
                if response.status_code >= 500 or "INTERNAL_ERROR" in codes:
                    failures.append(f"{case.operation.label}: {case.body} -> {body}")

            check()
    assert failures == []


def test_a_remembered_token_is_still_checked_for_expiry_and_key() -> None:
    """Verified tokens are remembered, but expiry is checked on every use and a new secret,
    algorithm or issuer never finds the old entry."""
    assert refused(VALID) is None
    assert refused(VALID) is None  # remembered
    later = NOW + timedelta(minutes=6)
    with pytest.raises(AppError) as expired:
        tokens.decode(SETTINGS, VALID, "access", now=later)
    assert expired.value.code is ErrorCode.TOKEN_EXPIRED
    for changed in (
        SETTINGS.with_(jwt_secret=TEST_SECRET[::-1]),
        SETTINGS.with_(jwt_issuer="another-issuer"),
    ):
        with pytest.raises(AppError) as other:
            tokens.decode(changed, VALID, "access", now=NOW)
        assert other.value.code is ErrorCode.TOKEN_INVALID
