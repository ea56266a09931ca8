"""The users CSV: header, RFC 4180 quoting, ISO 8601 dates, and no formulas for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

HEADER = ("id", "name", "email", "role", "created_at", "is_active")
# A cell starting with one of these would run as a formula in a spreadsheet (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Prefix a would-be formula with a quote so spreadsheets show it as text."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def row(
    user_id: int, name: str, email: str, role: str, created_at: datetime, is_active: bool
) -> tuple[str, ...]:
    return (
        str(user_id),
        neutralise(name),
        neutralise(email),
        role,
        created_at.isoformat(),
        "true" if is_active else "false",
    )


def encode(
    rows: Iterable[Sequence[str]], *, header: bool = False, columns: Sequence[str] = HEADER
) -> bytes:
    """UTF-8 CSV lines ending in CRLF, quoted where RFC 4180 needs it; with `header`, the
    `columns` line first (the users export's by default)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
