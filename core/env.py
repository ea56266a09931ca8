"""Settings fields that say where they come from: one declaration per setting, read from the
environment with every malformed value collected, not just the first."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field
from typing import Any, Literal, TypeVar

T = TypeVar("T")
Kind = Literal["text", "optional", "upper", "integer", "number", "flag", "items", "size", "choice"]
Shown = Literal["plain", "secret", "url"]


class _Same:
    """The production default is the development one."""


SAME: Any = _Same()


@dataclass(frozen=True, slots=True)
class Var:
    """The environment variable of one setting, how to read it, and production's default when it
    differs from the field's."""

    name: str
    kind: Kind = "text"
    choices: tuple[str, ...] = ()
    prod: Any = SAME


def var(
    default: T,
    name: str,
    kind: Kind = "text",
    *,
    choices: tuple[str, ...] = (),
    prod: Any = SAME,
    shown: Shown = "plain",
) -> T:
    """A settings field read from the variable `name`; `default` is its only default."""
    spec = Var(name, kind, choices, prod)
    declared: T = field(default=default, metadata={"var": spec, "shown": shown})
    return declared


class EnvReader:
    """Typed access to environment variables that collects every malformed value."""

    def __init__(self, env: Mapping[str, str], *, prod: bool) -> None:
        self._env = env
        self._prod = prod
        self.problems: list[str] = []

    def read(self, setting: Field[Any]) -> Any:
        """The value of one settings field, or its default (production's in production)."""
        spec: Var = setting.metadata["var"]
        default: Any = setting.default if not self._prod or spec.prod is SAME else spec.prod
        if spec.kind == "choice":
            return self.choice(spec.name, default, spec.choices)
        raw = self._env.get(spec.name)
        if spec.kind in {"text", "upper"}:
            text = default if raw is None else raw.strip()
            return text.upper() if spec.kind == "upper" else text
        value = (raw or "").strip()
        if spec.kind == "optional" or value == "":
            return value or default
        parse: dict[str, Callable[[str], Any]] = {
            "integer": int,
            "number": float,
            "flag": _flag,
            "items": _items,
            "size": _size,
        }
        try:
            return parse[spec.kind](value)
        except ValueError:
            self.problems.append(f"{spec.name}={raw!r} is not {_KINDS[spec.kind]}")
            return default

    def text(self, name: str, default: str) -> str:
        value = self._env.get(name)
        return default if value is None else value.strip()

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, default).lower()
        if value not in allowed:
            self.problems.append(f"{name}={value!r} is not one of {', '.join(allowed)}")
            return default
        return value


_KINDS = {
    "integer": "an integer",
    "number": "a number",
    "flag": "a boolean",
    "size": "a size such as 2MB",
}


def _flag(value: str) -> bool:
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(value)


def _items(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _size(value: str) -> int:
    """Bytes, accepting the legacy forms `2MB`, `512KB` and plain numbers."""
    text = value.upper().removesuffix("B")
    factor = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
    number = text[:-1] if factor > 1 else text
    return int(float(number) * factor)
