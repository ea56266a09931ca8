"""Playing a user's authenticator in tests: a clock moved in TOTP steps, enrollment, tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core import totp
from tests.conftest import PASSWORD, Accounts, GraphQLClient, error_codes

ENROLL = "mutation($p: String!) { enrollTotp(password: $p) { secret otpauthUri } }"
CONFIRM = "mutation($c: String!) { confirmTotp(code: $c) { codes } }"
VERIFY = (
    "mutation($t: String!, $c: String!) { verifyMfa(mfaToken: $t, code: $c) "
    "{ accessToken refreshToken tokenType expiresIn } }"
)
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
DISABLE = "mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }"
REGENERATE = (
    "mutation($p: String!, $c: String!) { regenerateRecoveryCodes(password: $p, code: $c) "
    "{ codes } }"
)
RESET = "mutation($u: ID!) { resetMfa(userId: $u) }"
ME = "{ me { id email mfaEnabled } }"


class StepClock:
    """The server's clock, near real time (tokens stay valid), moved by the test: it starts
    one second into a TOTP step."""

    def __init__(self) -> None:
        start = int(datetime.now(UTC).timestamp()) // totp.STEP_SECONDS * totp.STEP_SECONDS
        self.at = datetime.fromtimestamp(start + 1, UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float = totp.STEP_SECONDS) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Authenticator:
    """A user with TOTP on: the secret their app holds, their recovery codes, a session."""

    email: str
    user_id: int
    secret: str
    recovery_codes: list[str]
    token: str
    clock: StepClock

    def code(self, steps: int = 0) -> str:
        """The code the app shows now, or `steps` steps away."""
        return totp.code_at(self.secret, self.clock.now() + timedelta(seconds=30 * steps))


def ok(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body
    return body["data"][field]


async def with_totp(
    accounts: Accounts, gql: GraphQLClient, clock: StepClock, email: str = "user@example.com"
) -> Authenticator:
    """Create `email`, sign in, enroll and confirm an authenticator; the clock then moves to the
    next step (the confirming one is spent)."""
    user = await accounts.user(email)
    token = str((await accounts.login(email))["accessToken"])
    enrollment = ok(await gql(ENROLL, {"p": PASSWORD}, token), "enrollTotp")
    secret = enrollment["secret"]
    confirmed = ok(
        await gql(CONFIRM, {"c": totp.code_at(secret, clock.now())}, token), "confirmTotp"
    )
    clock.advance()
    return Authenticator(email, user.id, secret, confirmed["codes"], token, clock)


async def ticket_for(gql: GraphQLClient, email: str, password: str = PASSWORD) -> str:
    """The MFA_REQUIRED ticket a GraphQL login answers (the password being right)."""
    body = await gql(LOGIN, {"e": email, "p": password})
    assert error_codes(body) == ["MFA_REQUIRED"], body
    assert body["data"] is None
    return str(body["errors"][0]["extensions"]["details"]["mfaToken"])


async def verify(gql: GraphQLClient, ticket: str, code: str) -> dict[str, Any]:
    body: dict[str, Any] = await gql(VERIFY, {"t": ticket, "c": code})
    return body
