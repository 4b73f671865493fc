"""Who may read the schema: introspection and "Did you mean ...?" suggestions.

A caller the INTROSPECTION setting does not reveal the schema to gets neither: a document
asking for `__schema` or `__type` is refused in validation, and no error, whether from
validating the document or from coercing its variables, suggests the name of a field,
argument, type or enum value. `__typename` stays allowed: clients need it, and it names only
types the caller already reached.

Validation stays cached: this module's extension replaces strawberry's ValidationCache and
keys its cache on the document, the rule classes (built once, so equal across requests) and
whether suggestions are hidden.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Literal

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from schema.context import Context

Introspection = Literal["on", "off", "signed-in"]

# Rules strawberry adds to every validation; kept, since this replaces its cached validation.
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)
# As many documents as strawberry's ValidationCache keeps by default.
_CACHED_VALIDATIONS = 128


def introspection_mode(setting: str, *, graphiql: bool) -> Introspection:
    """The INTROSPECTION setting with `auto` decided: everyone while GraphiQL is served
    (it needs the schema to help), else signed-in callers only."""
    if setting == "auto":
        return "on" if graphiql else "signed-in"
    if setting in ("on", "off", "signed-in"):
        return setting  # type: ignore[return-value]  # narrowed by the test above
    raise ValueError(f"unknown introspection setting {setting!r}")


def reveals_schema(context: object) -> bool:
    """Whether the caller behind `context` may introspect and be offered suggestions."""
    if not isinstance(context, Context):
        # No request behind it: the process itself (schema export, introspect()).
        return True
    mode = context.introspection
    return mode == "on" or (mode == "signed-in" and context.viewer is not None)


@lru_cache(maxsize=_CACHED_VALIDATIONS)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(
        schema, document, (*rules, *_STRAWBERRY_RULES), hide_suggestions=hide_suggestions
    )


class VisibilityValidation(SchemaExtension):
    """Cached validation that refuses introspection and hides suggestions from callers the
    schema is not revealed to."""

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        assert execution.graphql_document is not None  # parsing succeeded, or we'd not be here
        rules = execution.validation_rules
        hidden = not reveals_schema(execution.context)
        if hidden:
            rules = (*rules, NoSchemaIntrospectionCustomRule)
        errors = _validate(execution.schema._schema, execution.graphql_document, rules, hidden)
        # A copy: later extensions may add errors, and the cached list must not grow.
        execution.pre_execution_errors = list(errors)
        yield


class VisibilityExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, hiding suggestions from the errors of variable coercion
    (e.g. an unknown input field or enum value in `variables`) as validation does."""

    @classmethod
    def build(  # type: ignore[override]  # passes graphql-core's many arguments through
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if not reveals_schema(context_value):
            kwargs["hide_suggestions"] = True
        return super().build(schema, document, root_value, context_value, *args, **kwargs)
