"""Declaring what a legacy route accepts: a spec is a frozen dataclass of scalar fields.

Fields are `str`, `int` or `bool` (optionally `| None`, meaning "may be omitted"); a field without
a default is required; `spec_field(...)` adds constraints; a `REFUSED` class variable names fields
a client may not send, with the reason. `field_specs` is what the parser and an OpenAPI generator
read.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

Scalar = type[str] | type[int] | type[bool]
_FIELD_SPECS: dict[type[Any], tuple[FieldSpec, ...]] = {}


@dataclass(frozen=True, slots=True)
class Rule:
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: Scalar
    required: bool
    default: Any
    rule: Rule


def spec_field(default: Any = MISSING, **rule: Any) -> Any:
    """A spec field with constraints (`choices`, `minimum`, `maximum`, `description`)."""
    return field(default=default, metadata={"rule": Rule(**rule)})


def field_specs(spec: type[Any]) -> tuple[FieldSpec, ...]:
    """The fields of a spec with their scalar types, read once per spec."""
    found = _FIELD_SPECS.get(spec)
    if found is None:
        found = _FIELD_SPECS[spec] = _read_fields(spec)
    return found


def _read_fields(spec: type[Any]) -> tuple[FieldSpec, ...]:
    hints = typing.get_type_hints(spec)
    return tuple(
        FieldSpec(
            name=f.name,
            kind=_scalar(hints[f.name]),
            required=f.default is MISSING,
            default=None if f.default is MISSING else f.default,
            rule=f.metadata.get("rule", Rule()),
        )
        for f in fields(spec)
    )


def refused_fields(spec: type[Any]) -> Mapping[str, str]:
    refused: Mapping[str, str] = getattr(spec, "REFUSED", {})
    return refused


def _scalar(hint: Any) -> Scalar:
    """The scalar type of a field annotation, with `| None` (an optional field) removed."""
    if isinstance(hint, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if hint not in (str, int, bool):
        raise TypeError(f"spec fields are str, int or bool, not {hint!r}")
    return typing.cast(Scalar, hint)
