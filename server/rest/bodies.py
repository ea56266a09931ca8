"""Legacy JSON bodies and query strings parsed into typed specs, every bad field listed at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request

from core.errors import AppError, ErrorCode, Problems, validation_error
from core.paging import bound_message
from core.validation import choice_message
from server.media_type import is_json
from server.rest.fields import FieldSpec, field_specs, refused_fields

T = TypeVar("T")
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_BAD = object()
Converter = Callable[[Problems, FieldSpec, Any], Any]


async def read_json(request: Request) -> Any:
    """The decoded JSON body: 415 for another media type, 400 when it does not parse."""
    if not is_json(request.headers.get("content-type")):
        raise AppError(ErrorCode.HTTP_ERROR, "Content-Type must be application/json", status=415)
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise validation_error({"body": ["Malformed JSON"]}) from exc


def parse_body(spec: type[T], data: Any) -> T:
    """`data` (decoded JSON) as an instance of `spec`, or VALIDATION_ERROR naming every bad field."""
    if not isinstance(data, dict):
        raise validation_error({"body": ["Must be a JSON object"]})
    return _build(spec, data, _from_json, "Unknown field")


def parse_query(spec: type[T], params: QueryParams) -> T:
    """A query string as an instance of `spec`; repeated or unknown parameters are refused."""
    values: dict[str, Any] = {}
    problems = Problems()
    for name in params:
        if len(params.getlist(name)) > 1:
            problems.add(name, "Give at most one value")
        values[name] = params[name]
    problems.raise_if_any()
    return _build(spec, values, _from_text, "Unknown parameter")


def _build(spec: type[T], given: dict[str, Any], convert: Converter, unknown: str) -> T:
    problems = Problems()
    specs = field_specs(spec)
    refused = refused_fields(spec)
    known = {f.name for f in specs}
    for name in given:
        if name in refused:
            problems.add(name, refused[name])
        elif name not in known:
            problems.add(name, unknown)
    values: dict[str, Any] = {}
    for f in specs:
        if f.name not in given:
            if f.required:
                problems.add(f.name, "Missing data for required field")
            continue
        value = convert(problems, f, given[f.name])
        if value is not _BAD:
            _check_rule(problems, f, value)
            values[f.name] = value
    problems.raise_if_any()
    return spec(**values)


def _from_json(problems: Problems, f: FieldSpec, value: Any) -> Any:
    if value is None:
        problems.add(f.name, "Must not be null")
        return _BAD
    if isinstance(value, f.kind) and not (f.kind is int and isinstance(value, bool)):
        return value
    problems.add(f.name, _TYPE_MESSAGES[f.kind])
    return _BAD


def _from_text(problems: Problems, f: FieldSpec, text: str) -> Any:
    if f.kind is int and _INTEGER.match(text):
        return int(text)
    if f.kind is bool and text.lower() in _BOOLEANS:
        return _BOOLEANS[text.lower()]
    if f.kind is str:
        return text
    problems.add(f.name, _TYPE_MESSAGES[f.kind])
    return _BAD


def _check_rule(problems: Problems, f: FieldSpec, value: Any) -> None:
    rule = f.rule
    if rule.choices and value not in rule.choices:
        problems.add(f.name, choice_message(rule.choices))
    if isinstance(value, int) and (message := bound_message(value, rule.minimum, rule.maximum)):
        problems.add(f.name, message)


_TYPE_MESSAGES: dict[type, str] = {
    str: "Must be a string",
    int: "Must be an integer",
    bool: "Must be true or false",
}
