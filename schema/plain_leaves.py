"""Plain leaf fields skip the per-field machinery that only resolvers need.

Most fields of a page are scalars read straight off an object (a milestone's title, due
date, completed flag): strawberry resolves them with `getattr` and never looks at the
resolve info, arguments or middleware that graphql-core builds for every field. A page of
50 milestones and 20 chat messages has about 330 such fields, and building that machinery
for each was a third of the server's time per request.

A field takes the short way only when nothing could observe the difference: strawberry's
own attribute resolver (no resolver function, permission, extension or exception handler),
no arguments, a scalar or enum type, and no middleware in the operation. Anything unusual
on the way (an exception, a null, a value the scalar refuses) goes back through
graphql-core's full path, which reports it exactly as before.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from strawberry.resolvers import is_default_resolver

from frameworks.strawberry import strawberry_field


class PlainLeaf(NamedTuple):
    """How to read one plain leaf field: the attribute, its type, whether it may be null."""

    attribute: str
    leaf_type: GraphQLLeafType
    nullable: bool


def plain_leaf(field_def: GraphQLField) -> PlainLeaf | None:
    """The short way to read `field_def`, or None when it needs graphql-core's full path."""
    definition = strawberry_field(field_def)
    resolve = field_def.resolve
    if definition is None or resolve is None or field_def.args:
        return None
    # No resolver function, permission or field extension: strawberry itself would read
    # the attribute. (An exception handler only acts on an exception, and any exception
    # sends the field back to the full path.)
    if not definition.is_basic_field or not is_default_resolver(resolve):
        return None
    if definition.default_resolver is not getattr:
        return None
    leaf_type = get_nullable_type(field_def.type)
    if not is_leaf_type(leaf_type):
        return None
    return PlainLeaf(definition.python_name, leaf_type, not is_non_null_type(field_def.type))


class PlainLeaves:
    """The plan of each field of a schema, worked out on first use and kept."""

    def __init__(self) -> None:
        self._plans: dict[tuple[str, str], PlainLeaf | None] = {}

    def plan(
        self, parent_type: GraphQLObjectType, field_def: GraphQLField | None, name: str
    ) -> PlainLeaf | None:
        key = (parent_type.name, name)
        try:
            return self._plans[key]
        except KeyError:
            found = self._plans[key] = plain_leaf(field_def) if field_def else None
            return found


def read_plain_leaf(plan: PlainLeaf, source: Any) -> Any:
    """The field's serialized value, or Undefined when the full path must decide."""
    try:
        value = getattr(source, plan.attribute)
        if value is None:
            return None if plan.nullable else Undefined
        coerced = plan.leaf_type.coerce_output_value(value)
    except Exception:  # the full path raises it again, located at the field
        return Undefined
    return Undefined if coerced is None else coerced
