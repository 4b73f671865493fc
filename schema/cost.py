"""The query cost limit: how many nodes an operation may ask for, refused before it runs.

Guarantee: every operation (query, mutation, subscription, over HTTP or WebSocket) is costed
on its document and variables once it has validated, before any resolver runs. Over
`limit` nodes it is refused with one top-level error, `extensions.code`
COST_LIMIT_EXCEEDED with `cost` and `limit`, and nothing is executed.

How a field counts, in the manner of GitHub's node limit:

- A connection (a field taking `first`/`last`) counts its page size: the larger of `first`
  and `last` (variables read from the request), else the argument's default in the schema,
  else DEFAULT_PAGE. Its `edges` add nothing: the connection counted them.
- A plain list of objects counts the most it can hold: LIST_SIZES by item type (a
  project's milestones: the milestone cap), OTHER_LIST for any other.
- A single object, a scalar and a list of scalars count nothing themselves.
- Every count is multiplied by the counts of the lists around it; sibling fields, aliases
  and fragments (named and inline) add up. For a subscription that is the selection each
  event executes.
- Introspection counts nothing: it reads the schema in memory.

The estimate errs high where it must guess: fields under @skip/@include, every branch of
an abstract type, and fields that execution would merge all count in full.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_leaf_type,
    is_list_type,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from frameworks.strawberry import graphql_core_schema
from schema.document_cache import BoundedCache, text_bytes
from schema.pagination import DEFAULT_PAGE, MAX_PAGE
from services.acceptance import CHANGE_REQUESTS_SHOWN
from services.milestones import MAX_MILESTONES

# The most items a plain list (no `first`/`last`) of each object type can hold.
LIST_SIZES = {
    "Milestone": MAX_MILESTONES,  # Project.milestones
    "ChangeRequest": CHANGE_REQUESTS_SHOWN,  # Milestone.changeRequests
    "FieldChange": 3,  # ChatMessage.changes: title, description, due date
    "ScheduleWarning": 10,  # Project.scheduleWarnings
    "UserError": 10,  # a payload's errors: at most one per input field
}
# Any other list of objects: as many as the longest page.
OTHER_LIST = MAX_PAGE

_PAGE_ARGUMENTS = ("first", "last")


class _Walk:
    """Costs one operation. Costs are linear in the multiplier around them, so each
    selection set is costed once per unit and scaled: a fragment spread many times is
    costed once, and a document costs time in proportion to its size."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.defaults: dict[str, ValueNode] = {
            d.variable.name.value: d.default_value
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.fragment_costs: dict[str, int] = {}
        self.visiting: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, on or parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name in self.fragment_costs:
            return self.fragment_costs[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.visiting:
            return 0  # unknown or cyclic: refused by validation anyway
        self.visiting.add(name)
        on = self.schema.get_type(fragment.type_condition.name.value)
        cost = self.selections(fragment.selection_set, on) if on else 0
        self.visiting.discard(name)
        self.fragment_costs[name] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, (GraphQLObjectType, GraphQLInterfaceType)
        ):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        item = get_named_type(definition.type)
        inner = self.selections(node.selection_set, item)
        if any(argument in definition.args for argument in _PAGE_ARGUMENTS):
            size = self.page_size(node, definition.args)
        elif not is_list_type(get_nullable_type(definition.type)) or is_leaf_type(item):
            return inner  # one object, or values: no nodes of its own
        elif parent.name.endswith("Connection") and name == "edges":
            return inner  # the connection field counted its page
        else:
            size = LIST_SIZES.get(item.name, OTHER_LIST)
        return size + size * inner

    def page_size(self, node: FieldNode, arguments: Mapping[str, Any]) -> int:
        given = [self.argument(node, name) for name in _PAGE_ARGUMENTS]
        sizes = [size for size in given if size is not None]
        if sizes:
            return max(0, *sizes)  # out of range is refused when the field runs
        for name in _PAGE_ARGUMENTS:
            argument = arguments.get(name)
            default = _as_int(argument.default_value) if argument is not None else None
            if default is not None:
                return max(0, default)  # as the schema declares, e.g. projects(first: Int = 20)
        return DEFAULT_PAGE  # what the resolver falls back to, e.g. chat's newest 20

    def argument(self, node: FieldNode, name: str) -> int | None:
        """The argument's integer value, or None when absent or null (the default applies)."""
        value = next((a.value for a in node.arguments or () if a.name.value == name), None)
        if isinstance(value, VariableNode):
            variable = value.name.value
            if variable in self.variables:
                return _as_int(self.variables[variable])
            value = self.defaults.get(variable)
        return int(value.value) if isinstance(value, IntValueNode) else None


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # GraphQL's Int accepts 5.0
    return None


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The nodes the operation `operation_name` of `document` may return (see above)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0  # execution reports the missing operation
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    walk = _Walk(schema, document, operation, variables or {})
    return walk.selections(operation.selection_set, root)


def _variables_key(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> tuple[tuple[str, int | None], ...]:
    # Exactly what the walk reads of the variables: which of the operation's variables are
    # given, and the page sizes among them. Ids and inputs vary without changing the cost;
    # an absent variable (its default applies) and one given as null or as text are told
    # apart. Variables the operation does not declare are left out: the client chooses
    # their names and number, and they must not become part of a kept key.
    if not variables:
        return ()
    declared = (d.variable.name.value for d in operation.variable_definitions or ())
    return tuple(sorted((n, _as_int(variables[n])) for n in declared if n in variables))


# Costs by (document text, operation name, variables as costed): a repeated request is
# one dictionary look-up. Bounded in entries and bytes (schema/document_cache.py).
_costs: BoundedCache[tuple[str, str | None, tuple[tuple[str, int | None], ...]], int] = (
    BoundedCache(max_entries=512, max_bytes=8 << 20)
)


def cost_limit_exceeded(cost: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"This operation may return up to {cost} nodes; the limit is {limit}. "
        "Ask for smaller pages (`first`/`last`) or fewer nested lists.",
        extensions={"code": "COST_LIMIT_EXCEEDED", "cost": cost, "limit": limit},
    )


class QueryCostLimiter(SchemaExtension):
    """Refuses an operation whose cost is over `limit`, after validation, before execution.

    Not a validation rule: graphql-core validates a document without its variables, and
    ValidationCache shares one result among requests with different variables, so a rule
    cannot see `first: $n`. This hook runs inside the validation step instead, after the
    extension that validates (list it after that one; it leaves an empty error list for a
    valid document), and sets the error there, where strawberry checks for errors before
    executing anything.
    """

    def __init__(self, *, limit: int) -> None:
        self.limit = limit

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            cost = self._cost(context)
            if cost > self.limit:
                context.pre_execution_errors = [cost_limit_exceeded(cost, self.limit)]
        yield

    @staticmethod
    def _cost(context: ExecutionContext) -> int:
        document = context.graphql_document
        assert document is not None
        operation = get_operation_ast(document, context.operation_name)
        if operation is None:
            return 0  # execution reports the missing operation
        text = context.query
        key = (text or "", context.operation_name, _variables_key(operation, context.variables))
        cost = _costs.get(key) if text else None
        if cost is None:
            cost = operation_cost(
                graphql_core_schema(context.schema),
                document,
                context.operation_name,
                context.variables,
            )
            if text:
                _costs.put(key, cost, text_bytes(text) + 64 * (len(key[2]) + 1))
        return cost
