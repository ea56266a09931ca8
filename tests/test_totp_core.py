"""The pure parts of the second factor: RFC 6238 codes and their steps, sealed secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import secret_box, totp

# RFC 6238, appendix B: the SHA-1 test secret ("12345678901234567890") and its codes.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_VECTORS = {59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"}


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_codes_are_rfc_6238_sha1_six_digits_thirty_seconds() -> None:
    for moment, code in RFC_VECTORS.items():
        assert totp.code_at(RFC_SECRET, at(moment)) == code
        assert totp.matching_step(RFC_SECRET, code, at(moment)) == moment // 30


def test_a_code_matches_one_step_either_side_and_no_further() -> None:
    now = at(1234567890)
    step = totp.step_of(now)
    for drift in (-1, 0, 1):
        code = totp.code_at(RFC_SECRET, now + timedelta(seconds=30 * drift))
        assert totp.matching_step(RFC_SECRET, code, now) == step + drift
    for drift in (-2, 2):
        code = totp.code_at(RFC_SECRET, now + timedelta(seconds=30 * drift))
        assert totp.matching_step(RFC_SECRET, code, now) is None


def test_typed_codes_are_normalised_and_told_apart() -> None:
    assert totp.normalise_code(" 123 456 ") == "123456"
    assert totp.is_totp_code("123456")
    assert not totp.is_totp_code("12345") and not totp.is_totp_code("abcde12345")
    assert totp.normalise_code("ABCDE-FGHIJ") == "abcdefghij"


def test_recovery_codes_are_ten_distinct_and_hashed_under_a_key() -> None:
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    one, two = secret_box.derive_key("a" * 40, "x"), secret_box.derive_key("b" * 40, "x")
    assert totp.recovery_code_hash(one, codes[0]) == totp.recovery_code_hash(
        one, codes[0].upper().replace("-", " ")
    )
    assert totp.recovery_code_hash(one, codes[0]) != totp.recovery_code_hash(two, codes[0])


def test_a_sealed_secret_opens_only_with_its_key_and_owner_and_unaltered() -> None:
    key = secret_box.derive_key("k" * 40, "totp-secret")
    sealed = secret_box.seal(key, RFC_SECRET, owner="user:1")
    assert RFC_SECRET not in sealed
    assert sealed != secret_box.seal(key, RFC_SECRET, owner="user:1")  # a fresh nonce each time
    assert secret_box.open_sealed(key, sealed, owner="user:1") == RFC_SECRET
    assert secret_box.open_sealed(key, sealed, owner="user:2") is None
    other = secret_box.derive_key("k" * 40, "recovery-code")
    assert secret_box.open_sealed(other, sealed, owner="user:1") is None
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    assert secret_box.open_sealed(key, tampered, owner="user:1") is None
    assert secret_box.open_sealed(key, "garbage", owner="user:1") is None
