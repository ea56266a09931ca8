"""An object's fields as one Python function, generated once per planned object shape.

graphql-jit's idea, for the common case only: when every field of an object is `__typename`,
a plain attribute of a leaf type, or a related object the plan loads (`related.py`), the
executor's loop over the steps (a call, a few checks and a serialiser call per field) becomes
straight-line code: per field an attribute read, a class check and a store. The function
answers None as soon as a value is anything but the exact Python class the leaf's fast
serialiser takes (a None in a non-null field, an enum value it does not know, an exception,
an awaitable): the executor then shapes that object again through its general steps
(`executor._object`), which decide exactly as graphql-core would. Reading an attribute twice
is safe: these are plain attributes of strawberry types (`_plain_attribute`).

The source holds no text from a document: response keys and attribute names are checked
identifiers, every other value (a step, a serialiser) is bound by name in the function's
globals.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from datetime import datetime
from typing import Any

from schema.compiled.shapes import INLINED_CLASS, SLOW, FieldStep, Leaf, ObjectOf

# source, loads (an out list: (step, id) of each related field to load) -> the object, or None
FastObject = Callable[[Any, list[tuple[FieldStep, Any]]], dict[str, Any] | None]


def _name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text) and text.isascii()


def fast_object(shape: ObjectOf) -> FastObject | None:
    """The generated function of `shape`'s fields, or None when a field needs the general
    steps (a resolver graphql-core executes, a nested object or list read in place)."""
    lines = ["def shape(src, loads):", "    r = {}"]
    names: dict[str, Any] = {"SLOW": SLOW, "str": str, "bool": bool, "datetime": datetime}
    related: list[str] = []
    for index, step in enumerate(shape.fields):
        key = repr(step.key)
        if not _name(step.key):
            return None
        if step.constant is not None:
            names[f"C{index}"] = step.constant
            lines.append(f"    r[{key}] = C{index}")
            continue
        if step.related is not None:
            if not _name(step.related.id_attr):
                return None
            names[f"S{index}"] = step
            lines += [
                f"    k{index} = src.{step.related.id_attr}",
                f"    r[{key}] = None",
            ]
            related.append(f"    if k{index} is not None: loads.append((S{index}, k{index}))")
            continue
        leaf = step.shape
        if step.attr is None or not _name(step.attr) or leaf.__class__ is not Leaf:
            return None
        assert isinstance(leaf, Leaf)
        lines.append(f"    v = src.{step.attr}")
        none = "return None" if step.non_null else f"r[{key}] = None"
        inlined = INLINED_CLASS.get(leaf.fast)
        if inlined is not None:
            value = "v.isoformat()" if inlined == "datetime" else "v"
            lines += [
                f"    if v.__class__ is {inlined}: r[{key}] = {value}",
                f"    elif v is None: {none}",
                "    else: return None",
            ]
        else:
            names[f"F{index}"] = leaf.fast
            lines += [
                f"    if v is None: {none}",
                "    else:",
                f"        v = F{index}(v)",
                "        if v is SLOW: return None",
                f"        r[{key}] = v",
            ]
    lines += [*related, "    return r"]
    exec("\n".join(lines), names)  # noqa: S102  # nosec B102: identifiers and names only
    made: FastObject = names["shape"]
    return made
