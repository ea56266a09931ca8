"""From a validated operation to its plan: every field group graphql-core would collect, with
the steps that shape its value.

The planner groups fields with graphql-core's own `collect_fields` / `collect_subfields`, under
the values of the variables that `@include` / `@skip` read, so merging, aliases, fragments,
inline fragments and directives are resolved exactly as graphql-core resolves them, once. A
field is inlined when strawberry would only read an attribute (no resolver, no extension, no
arguments); a field whose resolver is marked `loads_related` (`createdBy`) is loaded from the
plan on a list's items (`related.py`); anything else (root fields, `pageInfo.page`,
introspection, abstract types) stays a field graphql-core executes, and the values it returns
are shaped by the plan again when their group was planned.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues
from graphql.type.introspection import TypeNameMetaFieldDef

from schema.compiled.codegen import fast_object
from schema.compiled.related import Related, related_of
from schema.compiled.shapes import FieldStep, Leaf, ListOf, ObjectOf, Shape, serialiser

# A plan: each planned field group (the ids of its nodes) and its step.
Plan = dict[tuple[int, ...], FieldStep]
_STRAWBERRY_FIELD = "strawberry-definition"


def group_key(details: list[FieldDetails]) -> tuple[int, ...]:
    return tuple([id(detail.node) for detail in details])


class Planner:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        variables: VariableValues,
        operation: OperationDefinitionNode,
    ) -> None:
        self.schema, self.fragments = schema, fragments
        self.variables, self.operation = variables, operation
        self.plan: Plan = {}

    def build(self) -> Plan | None:
        """The plan of the operation; None when graphql-core should run it all (subscriptions,
        fragment arguments)."""
        root = self.schema.get_root_type(self.operation.operation)
        if root is None or self.operation.operation is OperationType.SUBSCRIPTION:
            return None
        grouped, defers, _ = collect_fields(
            self.schema, self.fragments, self.variables, root, self.operation
        )
        if defers:
            return None
        for key, details in grouped.items():
            if any(detail.fragment_variable_values is not None for detail in details):
                return None
            field = self.schema.get_field(root, details[0].node.name.value)
            if field is not None and not details[0].node.name.value.startswith("__"):
                self.step(root, key, field, details)  # root fields are always executed
        return self.plan

    def step(
        self, parent: GraphQLObjectType, key: str, field: GraphQLField, details: list[FieldDetails]
    ) -> FieldStep:
        name = details[0].node.name.value
        step = FieldStep(
            key=key,
            parent=parent,
            field=field,
            type=field.type,
            details=details,
            non_null=isinstance(field.type, GraphQLNonNull),
            null_message=f"Cannot return null for non-nullable field {parent.name}.{name}.",
        )
        step.shape = self.shape(field.type, details)
        if step.shape is not None:
            self.plan[group_key(details)] = step
            if parent is not self.schema.get_root_type(self.operation.operation):
                step.attr = _plain_attribute(field, details)
                if step.shape.__class__ is ObjectOf and not step.non_null:
                    step.related = _related(field, details)
        return step

    def shape(self, type_: GraphQLOutputType, details: list[FieldDetails]) -> Shape | None:
        named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(named, GraphQLList):
            item = self.shape(named.of_type, details)
            if item is None:
                return None
            return ListOf(item, named.of_type, isinstance(named.of_type, GraphQLNonNull))
        if isinstance(named, GraphQLLeafType):
            return Leaf(named, serialiser(named))
        if isinstance(named, GraphQLObjectType) and named.is_type_of is None:
            return self.object_shape(named, details)
        return None  # interfaces, unions, is_type_of checks: graphql-core's

    def object_shape(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> ObjectOf:
        grouped, _, _ = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, type_, details
        )
        steps: list[FieldStep] = []
        for key, group in grouped.items():
            name = group[0].node.name.value
            if name == "__typename":
                steps.append(_typename(type_, key, group))
                continue
            field = self.schema.get_field(type_, name)
            if field is not None:
                steps.append(self.step(type_, key, field, group))
        shape = ObjectOf(type_, tuple(steps))
        shape.fast = fast_object(shape)
        shape.loads = any(step.related is not None for step in steps)
        return shape


def _plain_attribute(field: GraphQLField, details: list[FieldDetails]) -> str | None:
    """The attribute strawberry's resolver would read, when that is all it does."""
    definition: Any = (field.extensions or {}).get(_STRAWBERRY_FIELD)
    if (
        definition is None
        or not getattr(field.resolve, "_is_default", False)
        or definition.default_resolver is not getattr
        or field.args
        or any(detail.node.arguments for detail in details)
    ):
        return None
    name: str = definition.python_name
    return name


def _related(field: GraphQLField, details: list[FieldDetails]) -> Related | None:
    """What a resolver marked `loads_related` loads, when strawberry would only call it
    (no field extension or permission, no arguments)."""
    definition: Any = (field.extensions or {}).get(_STRAWBERRY_FIELD)
    resolver = getattr(definition, "base_resolver", None)
    if (
        resolver is None
        or definition.extensions
        or getattr(definition, "permission_classes", None)
        or field.args
        or any(detail.node.arguments for detail in details)
    ):
        return None
    return related_of(resolver.wrapped_func)


def _typename(type_: GraphQLObjectType, key: str, group: list[FieldDetails]) -> FieldStep:
    return FieldStep(
        key=key,
        parent=type_,
        field=TypeNameMetaFieldDef,
        type=TypeNameMetaFieldDef.type,  # unused: a constant never fails
        details=group,
        non_null=True,
        null_message="",
        constant=type_.name,
    )
