"""Running a plan: graphql-core's executor, with the values of planned field groups shaped by
their precompiled steps instead of its per-field machinery.

graphql-core still runs the operation: variables, root fields (their resolvers, permissions
and extensions, as strawberry wraps them), and every field the plan leaves to it. When it comes
to complete a value whose field group the plan holds, `complete_value` hands it to the steps,
which do what graphql-core's `complete_value` / `execute_fields` / `complete_iterable_value`
would do, with the same error handling (`handle_field_error`: null propagation to the nearest
nullable parent, paths, locations) and the same gathering of awaitables; only the work that
cannot change (field lookup, grouping, type dispatch, path objects of fields that do not fail)
is gone. Anything unusual about a value (not a list, an awaitable where an attribute was read,
a scalar of another Python type) goes back to graphql-core's own completion for that value.
"""

from __future__ import annotations

from asyncio import Future, sleep
from collections.abc import Awaitable
from contextlib import suppress
from types import GeneratorType
from typing import Any

from graphql import GraphQLOutputType, GraphQLResolveInfo
from graphql.execution.collect_fields import FieldDetails
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.compiled import cache
from schema.compiled.planner import Plan, group_key
from schema.compiled.shapes import SLOW, FieldStep, Leaf, ListOf, ObjectOf


class PlannedExecutor(StrawberryGraphQLCoreExecutionContext):
    _plan: Plan | None = None
    _loads: bool = False  # related fields loaded from the plan (nothing wraps resolvers)

    def execute_operation(self, serially: bool | None = None) -> Any:
        self._plan = cache.plan_for(
            self.schema, self.fragments, self.variable_values, self.operation
        )
        middleware = self.middleware_manager
        self._loads = self.abort_signal is None and not (middleware and middleware.middlewares)
        return super().execute_operation(serially)

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: list[FieldDetails],
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan
        step = plan.get(group_key(field_details_list)) if plan else None
        if step is None or step.type is not return_type or isinstance(result, Exception):
            return super().complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        return self._value(step, result, path)

    def _value(self, step: FieldStep, value: Any, path: Path) -> Any:
        """A field's value shaped by its step (errors raised, as from `complete_value`)."""
        if value is None:
            if step.non_null:
                raise TypeError(step.null_message)
            return None
        shape = step.shape
        assert shape is not None
        if shape.__class__ is Leaf:
            return self._leaf(shape, value, step, path)
        if shape.__class__ is ObjectOf:
            return self._object(shape, value, path)
        assert isinstance(shape, ListOf)
        return self._list(shape, value, step, path)

    def _leaf(self, leaf: Leaf, value: Any, step: FieldStep, path: Path) -> Any:
        fast = leaf.fast(value)
        if fast is not SLOW:
            return fast
        if isinstance(value, Exception) or self.is_awaitable(value):
            return self._standard(step, value, path)
        return self.complete_leaf_value(leaf.type, value)  # graphql-core's, errors included

    def _object(
        self, shape: ObjectOf, source: Any, path: Path, pending: list[_Entry] | None = None
    ) -> Any:
        """What `execute_fields` does for an object's field groups. With `pending` (the items
        of a list), a nullable resolver field's awaitable, which never raises (its errors are
        recorded and it becomes null), is left there for the list to gather with its siblings'
        instead of making this object an awaitable of its own, and so is a related field's
        load (`_Load`). Its generated function (`codegen.py`) first, when it has one and may
        load here: what it cannot shape, these steps shape again."""
        fast = shape.fast
        if fast is not None and (not shape.loads or (pending is not None and self._loads)):
            loads: list[tuple[FieldStep, Any]] = []
            shaped = fast(source, loads)
            if shaped is not None:
                if loads:
                    assert pending is not None
                    name = shape.type.name
                    for step, key in loads:
                        pending.append(_Load(shaped, step, Path(path, step.key, name), key))
                return shaped
        result: dict[str, Any] = {}
        awaited: list[str] = []
        try:
            for step in shape.fields:
                key = step.key
                if step.constant is not None:
                    result[key] = step.constant
                    continue
                if step.related is not None and pending is not None and self._loads:
                    self._load(shape, step, source, path, result, pending)
                    continue
                attr = step.attr
                if attr is None:
                    value = self.execute_field(
                        shape.type, source, step.details, Path(path, key, shape.type.name), None
                    )
                    if value is Undefined:
                        continue
                    result[key] = value
                    if self.is_awaitable(value):
                        if pending is not None and not step.non_null:
                            pending.append((result, key, value))
                        else:
                            awaited.append(key)
                    continue
                result[key] = value = self._inline(shape, step, attr, source, path)
                if value.__class__ is _Pending:
                    result[key] = value = value.awaitable
                    awaited.append(key)
        except Exception:
            if awaited:
                self.settle_in_background([result[key] for key in awaited])
            raise
        if not awaited:
            return result
        return _gather_fields(result, awaited)

    def _inline(self, shape: ObjectOf, step: FieldStep, attr: str, source: Any, path: Path) -> Any:
        """A plain attribute's field, with `execute_field`'s error handling."""
        try:
            value = getattr(source, attr)
            if value is None:
                if step.non_null:
                    raise TypeError(step.null_message)
                return None
            shape_ = step.shape
            if shape_.__class__ is Leaf:
                fast = shape_.fast(value)
                if fast is not SLOW:
                    return fast
                if not isinstance(value, Exception) and not self.is_awaitable(value):
                    return self.complete_leaf_value(shape_.type, value)
            field_path = Path(path, step.key, shape.type.name)
            if isinstance(value, Exception) or self.is_awaitable(value):
                completed = self._standard(step, value, field_path)
            else:
                completed = self._value(step, value, field_path)
            if self.is_awaitable(completed):
                return _Pending(self._await_field(completed, step, field_path))
            return completed
        except Exception as error:
            self.handle_field_error(
                error, step.type, step.details, Path(path, step.key, shape.type.name)
            )
            return None

    def _load(
        self,
        shape: ObjectOf,
        step: FieldStep,
        source: Any,
        path: Path,
        result: dict[str, Any],
        pending: list[_Entry],
    ) -> None:
        """A related field's `load` (what its resolver would call), left in `pending`."""
        related = step.related
        assert related is not None
        result[step.key] = None
        field_path = Path(path, step.key, shape.type.name)
        try:
            key = getattr(source, related.id_attr)
            if key is not None:
                pending.append(_Load(result, step, field_path, key))
        except Exception as error:
            self.handle_field_error(error, step.type, step.details, field_path)

    def _loaded(self, load: _Load) -> None:
        """A load's object shaped as soon as the loader answers (in the order graphql-core's
        tasks would wake up, so errors are recorded in its order), its own loads and pending
        fields left for the next level."""
        if load.nested is not None:
            return  # its level was cancelled: a sibling failed first
        nested: list[_Entry] = []
        step, result, path = load.step, load.result, load.path
        try:
            value = load.loaded.result()  # or its error
            if value is not None:
                assert step.related is not None
                assert isinstance(step.shape, ObjectOf)
                shaped = self._object(step.shape, step.related.build(value), path, nested)
                if self.is_awaitable(shaped):
                    nested.append((result, step.key, self._await_field(shaped, step, path)))
                else:
                    result[step.key] = shaped
        except Exception as error:
            self.handle_field_error(error, step.type, step.details, path)
        finally:
            load.nested = nested

    async def _settle_loads(self, loads: list[_Load]) -> None:
        """One level of loads (one loader batch) settled, then the next level's loads and
        fields gathered in turn."""
        for load in loads:  # when graphql-core's tasks would call the resolvers: now
            related = load.step.related
            assert related is not None
            load.loaded = related.loader(self.context_value).load(load.key)
            load.loaded.add_done_callback(lambda _, load=load: self._loaded(load))  # type: ignore[misc]
        try:
            for load in loads:
                if load.nested is None:
                    with suppress(Exception):  # recorded by `_loaded`, on the field's path
                        await load.loaded
            while any(load.nested is None for load in loads):  # noqa: ASYNC110 - one turn
                await sleep(0)  # the answered loads' callbacks run first
        except BaseException:
            _cancel(loads)
            raise
        pending = [entry for load in loads if load.nested for entry in load.nested]
        if pending:
            await self._gather_items([], [], pending)

    async def _gather_items(
        self, completed: list[Any], awaited: list[int], pending: list[_Entry]
    ) -> list[Any]:
        """The list's awaitable items and its items' pending fields and loads, gathered at
        once (one batch per level for the loaders, as graphql-core's nested gathers give)."""
        fields = [entry for entry in pending if entry.__class__ is tuple]
        loads = [entry for entry in pending if entry.__class__ is _Load]
        waiting = [*(completed[index] for index in awaited), *(field[2] for field in fields)]
        if loads and not waiting:
            await self._settle_loads(loads)
            return completed
        if loads:
            waiting.append(self._settle_loads(loads))
        try:
            values = await gather_with_cancel(*waiting)
        except Exception:
            _cancel(loads)  # as gather_with_cancel cancels graphql-core's tasks of the loads
            raise
        for index, value in zip(awaited, values, strict=False):
            completed[index] = value
        for (result, key, _), value in zip(fields, values[len(awaited) :], strict=False):
            result[key] = value
        return completed

    async def _await_field(self, completed: Awaitable[Any], step: FieldStep, path: Path) -> Any:
        try:
            return await completed
        except Exception as error:
            self.handle_field_error(error, step.type, step.details, path)
            return None

    def _list(self, shape: ListOf, items: Any, step: FieldStep, path: Path) -> Any:
        """What `complete_iterable_value` does, for a list or tuple of values the steps shape
        (graphql-core completes any other list, before anything of it ran)."""
        if (items.__class__ is not list and items.__class__ is not tuple) or self._unusual(items):
            return self._standard(step, items, path)
        item_shape, item_type = shape.item, shape.item_type
        item_step = _item_step(step, shape)
        completed: list[Any] = []
        awaited: list[int] = []
        pending: list[_Entry] = []
        try:
            for index, item in enumerate(items):
                item_path = Path(path, index, None)
                try:
                    if item is None:
                        if shape.item_non_null:
                            raise TypeError(step.null_message)
                        completed.append(None)
                        continue
                    if item_shape.__class__ is ObjectOf:
                        value = self._object(item_shape, item, item_path, pending)
                    else:
                        value = self._value(item_step, item, item_path)
                    if self.is_awaitable(value):
                        completed.append(self._await_item(value, item_type, step, item_path))
                        awaited.append(index)
                    else:
                        completed.append(value)
                except Exception as error:
                    self.handle_field_error(error, item_type, step.details, item_path)
                    completed.append(None)
        except Exception:
            waiting = [completed[index] for index in awaited]
            waiting += [entry[2] for entry in pending if entry.__class__ is tuple]
            if waiting:
                self.settle_in_background(waiting)
            raise
        if not awaited and not pending:
            return completed
        return self._gather_items(completed, awaited, pending)

    def _unusual(self, items: list[Any] | tuple[Any, ...]) -> bool:
        """Whether a list holds an awaitable or an exception (one item of each class is looked
        at; generators, whose awaitability is per object, each one)."""
        for item in {item.__class__: item for item in items}.values():
            if isinstance(item, Exception) or self.is_awaitable(item):
                return True
            if item.__class__ is GeneratorType:
                return any(self.is_awaitable(each) for each in items)
        return False

    async def _await_item(
        self, value: Awaitable[Any], item_type: GraphQLOutputType, step: FieldStep, path: Path
    ) -> Any:
        try:
            return await value
        except Exception as error:
            self.handle_field_error(error, item_type, step.details, path)
            return None

    def _standard(self, step: FieldStep, value: Any, path: Path) -> Any:
        """graphql-core's own completion of one value (an awaitable one awaited first)."""
        nodes = [detail.node for detail in step.details]
        info = self.build_resolve_info(step.field, nodes, step.parent, path)
        if self.is_awaitable(value):
            return self.complete_awaitable_value(step.type, step.details, info, path, value, None)
        return super().complete_value(step.type, step.details, info, path, value, None)


_Field = tuple[dict[str, Any], str, Awaitable[Any]]  # an object, a key, the awaitable value


class _Load:
    """A related field's load: its object, its step, its path, the id to load."""

    __slots__ = ("key", "loaded", "nested", "path", "result", "step")
    loaded: Future[Any]  # the loader's answer, once asked

    def __init__(self, result: dict[str, Any], step: FieldStep, path: Path, key: Any) -> None:
        self.result, self.step, self.path, self.key = result, step, path, key
        self.nested: list[_Entry] | None = None  # the next level's, once shaped


_Entry = _Field | _Load


def _cancel(loads: list[_Load]) -> None:
    """Loads whose objects will not be shaped (nor their errors recorded): their level failed."""
    for load in loads:
        if load.nested is None:
            load.nested = []


class _Pending:
    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self.awaitable = awaitable


def _item_step(step: FieldStep, shape: ListOf) -> FieldStep:
    """The step of a list's items: the list field's group and words, the item's type."""
    return FieldStep(
        key=step.key,
        parent=step.parent,
        field=step.field,
        type=shape.item_type,
        details=step.details,
        non_null=shape.item_non_null,
        null_message=step.null_message,
        shape=shape.item,
    )


async def _gather_fields(result: dict[str, Any], awaited: list[str]) -> dict[str, Any]:
    if len(awaited) == 1:
        result[awaited[0]] = await result[awaited[0]]
    else:
        values = await gather_with_cancel(*(result[key] for key in awaited))
        result.update(zip(awaited, values, strict=True))
    return result
