"""Every part of the served schema says what it is: clients read the schema as documentation.

Walks the schema as served (graphql-core's view of it, after strawberry's conversion), so a
description lost on the way, e.g. on an enum value wrapped from a model, is caught too.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    is_introspection_type,
    is_specified_scalar_type,
)

from schema.schema import schema


def _arguments(owner: str, arguments: dict[str, GraphQLArgument]) -> Iterator[tuple[str, bool]]:
    for name, argument in arguments.items():
        yield f"{owner}({name}:)", bool(argument.description)


def _parts(named: GraphQLNamedType) -> Iterator[tuple[str, bool]]:
    """Each describable part of `named` (itself included), with whether it has a description."""
    yield named.name, bool(named.description)
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for name, field in named.fields.items():
            yield f"{named.name}.{name}", bool(field.description)
            yield from _arguments(f"{named.name}.{name}", field.args)
    elif isinstance(named, GraphQLInputObjectType):
        for name, input_field in named.fields.items():
            yield f"{named.name}.{name}", bool(input_field.description)
    elif isinstance(named, GraphQLEnumType):
        for name, value in named.values.items():
            yield f"{named.name}.{name}", bool(value.description)


def all_parts() -> Iterator[tuple[str, bool]]:
    """Every describable part of the schema but introspection's and the built-in scalars."""
    for named in schema._schema.type_map.values():
        if not (is_introspection_type(named) or is_specified_scalar_type(named)):
            yield from _parts(named)


def test_every_type_field_argument_and_enum_value_has_a_description() -> None:
    missing = sorted(part for part, described in all_parts() if not described)
    assert not missing, f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_the_walk_reaches_every_kind_of_part() -> None:
    # Guards the test above against passing because it walked nothing.
    parts = {part for part, _ in all_parts()}
    assert {
        "Project",
        "Node.id",
        "Project.title",
        "Query.project(id:)",
        "AddMilestoneInput.title",
        "Role.ADMIN",
        "ChatEventKind.MILESTONE_EDITED",
        "EmailStatus.FAILED",
    } <= parts
    assert not parts & {"__Schema", "String", "Boolean"}
