"""Who may read the schema: introspection and "Did you mean ...?" suggestions.

A caller the INTROSPECTION setting does not reveal the schema to gets neither: a document
asking for `__schema` or `__type` is refused in validation, and an error from validating
the document or from coercing its variables says only that the document (or the
variables) do not fit the schema, with its code and locations: graphql-core's own messages
name fields, arguments, their types and the types of inputs ("Argument 'Query.project(id:)'
of type 'ID!' is required"), and would rebuild the schema piece by piece. What the caller
may read keeps its words: the size limits (schema/document_limits.py), which are checked
first, and the refusal of introspection. `__typename` stays allowed: clients need it, and it
names only types the caller already reached.

Validation stays cached, in a cache bounded in bytes (schema/document_cache.py): keyed on
the document's text, the rule classes (built once, so equal across requests) and whether
the schema is hidden.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from frameworks.strawberry import (
    STRAWBERRY_VALIDATION_RULES,
    StrawberryGraphQLCoreExecutionContext,
    graphql_core_schema,
)
from schema.context import Context
from schema.document_cache import (
    BoundedCache,
    CacheInfo,
    document_bytes,
    text_bytes,
    token_count,
)
from schema.document_limits import limit_errors
from schema.error_codes import VALIDATION_FAILED, with_code

Introspection = Literal["on", "off", "signed-in"]

# Rules strawberry adds to every validation; kept, since this replaces its cached validation.
_STRAWBERRY_RULES = STRAWBERRY_VALIDATION_RULES
# Twice as many documents as strawberry's ValidationCache kept, once per kind of caller.
_CACHED_VALIDATIONS = 256
# Validation stops after this many errors: each costs a scan of the text to locate it, and
# 1,990 unknown fields (100 errors, graphql-core's default) held the event loop 0.1 s.
MAX_ERRORS = 10
INVALID_DOCUMENT = "The document is not valid against the schema."
INVALID_VARIABLES = "The variables are not valid for the operation's variable definitions."


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


class _NoIntrospection(NoSchemaIntrospectionCustomRule):
    """graphql-core's refusal of introspection, coded, so that it keeps its words for
    callers from whom the schema is hidden (the other errors lose theirs)."""

    def report_error(self, error: GraphQLError) -> None:
        super().report_error(with_code(error, VALIDATION_FAILED))


def _generic(error: GraphQLError, message: str, code: str = VALIDATION_FAILED) -> GraphQLError:
    """`error` saying only `message`, unless it is one of ours (it has a code)."""
    if error.extensions and "code" in error.extensions:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        extensions={"code": code},
    )


class _CachedValidation:
    """Validation of a document, cached by its text for the same rules and caller kind.

    A document passing a limit of schema/document_limits.py gets that error alone: the
    schema's rules, some of which cost more than linear time, never see it.
    """

    def __init__(self) -> None:
        self._cache: BoundedCache[
            tuple[str, tuple[type[ASTValidationRule], ...], bool], list[GraphQLError]
        ] = BoundedCache(_CACHED_VALIDATIONS, 16 << 20)

    def cache_info(self) -> CacheInfo:
        return self._cache.cache_info()

    def __call__(
        self,
        schema: GraphQLSchema,
        text: str | None,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
        hidden: bool,
    ) -> list[GraphQLError]:
        key = (text or "", rules, hidden)
        errors = self._cache.get(key) if text else None
        if errors is not None:
            return errors
        errors = limit_errors(document)
        if not errors:
            everything = (*rules, *_STRAWBERRY_RULES)
            errors = validate(
                schema, document, everything, max_errors=MAX_ERRORS, hide_suggestions=hidden
            )
            if hidden:
                errors = [_generic(error, INVALID_DOCUMENT) for error in errors]
        if text:
            # Errors hold the document's nodes, and so the whole document.
            weight = document_bytes(text, token_count(document)) if errors else text_bytes(text)
            self._cache.put(key, errors, weight)
        return errors


_validate = _CachedValidation()


class VisibilityValidation(SchemaExtension):
    """Cached validation that refuses introspection and hides suggestions from callers the
    schema is not revealed to."""

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        assert execution.graphql_document is not None  # parsing succeeded, or we'd not be here
        rules = execution.validation_rules
        hidden = not reveals_schema(execution.context)
        if hidden:
            rules = (*rules, _NoIntrospection)
        schema = graphql_core_schema(execution.schema)
        errors = _validate(schema, execution.query, execution.graphql_document, rules, hidden)
        # A copy: later extensions may add errors, and the cached list must not grow.
        execution.pre_execution_errors = list(errors)
        yield


class VisibilityExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, hiding the schema from the errors of variable coercion (e.g.
    an unknown input field or enum value in `variables`) as validation does."""

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
        hidden = not reveals_schema(context_value)
        if hidden:
            kwargs["hide_suggestions"] = True
        built = super().build(schema, document, root_value, context_value, *args, **kwargs)
        if isinstance(built, list):  # the variables did not coerce: the client's to fix
            if hidden:
                return [_generic(error, INVALID_VARIABLES, "BAD_USER_INPUT") for error in built]
            return [with_code(error, "BAD_USER_INPUT") for error in built]
        return built
