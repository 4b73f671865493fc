"""How big a document may be, checked before the schema's validation rules run.

Every check here costs time in proportion to the document's text, whatever its shape:

- At parse: at most MAX_DOCUMENT_CHARS characters (lexing a 1 MB string literal alone took
  0.3 s) and MAX_TOKENS tokens (graphql-core's parser stops at the limit).
- Before validation: at most MAX_FRAGMENTS fragment definitions, MAX_DEPTH levels of
  fields, MAX_ALIASES aliases, MAX_SELECTIONS selections once fragments are expanded, and
  no alias under introspection. Each fragment is measured once and its measure reused
  wherever it is spread: a chain of fragments each spreading the next twice doubles the
  counts, not the work (strawberry's depth and alias limiters walked every spread again,
  and 40 such fragments held the server for minutes).

Why selections count pairs: graphql-core's OverlappingFieldsCanBeMergedRule compares every
two fields that land on the same response key, so 490 copies of `me { id }` (under the
token limit) took it a second. MAX_SELECTIONS bounds that work: a field counts once where
execution would merge it, plus once for each other field it merges with there.
Introspection takes no aliases: without them, a document can ask for the schema only once
(aliasing `types` 29 times made 40 KB of schema into 1 MB of response, 0.6 s).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

MAX_DOCUMENT_CHARS = 100_000
MAX_TOKENS = 2000
MAX_FRAGMENTS = 100
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_SELECTIONS = 5000
# Fields whose selections are the schema itself.
_INTROSPECTION = ("__schema", "__type")


def too_long(text: str) -> GraphQLError | None:
    """A parse error for a document text over MAX_DOCUMENT_CHARS, before any lexing."""
    if len(text) <= MAX_DOCUMENT_CHARS:
        return None
    return GraphQLError(
        f"The document is {len(text):,} characters long; the limit is "
        f"{MAX_DOCUMENT_CHARS:,}. Send values as variables."
    )


def limit_errors(document: DocumentNode) -> list[GraphQLError]:
    """The limits `document` passes, as errors naming each; [] when it passes them all.

    Cheapest first, and stops at the first one passed: the later ones may cost more on a
    document the earlier ones refuse.
    """
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if len(fragments) > MAX_FRAGMENTS:
        return [_error(f"The document defines {len(fragments)} fragments", MAX_FRAGMENTS)]
    shape = _Shape(fragments)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for operation in operations:
        depth = shape.depth(operation.selection_set)
        if depth > MAX_DEPTH:
            message = f"The operation {_name(operation)} has a depth of {depth} fields"
            return [_error(message, MAX_DEPTH, operation)]
    aliases = sum(shape.aliases(o.selection_set) for o in operations)
    if aliases > MAX_ALIASES:
        return [_error(f"The document uses {aliases:,} aliases", MAX_ALIASES)]
    aliased = shape.introspection_alias(operations)
    if aliased is not None:
        return [
            GraphQLError(
                "Introspection fields cannot be aliased: ask for the schema once.",
                aliased,
            )
        ]
    roots = [o.selection_set for o in operations]
    roots += [f.selection_set for f in fragments.values()]  # validated even when unused
    if selections_over(roots, fragments, MAX_SELECTIONS):
        return [
            _error(
                f"The document makes more than {MAX_SELECTIONS:,} selections once its "
                "fragments are expanded, counting a field repeated in one place once more "
                "for every other copy it merges with",
                MAX_SELECTIONS,
            )
        ]
    return []


def _name(operation: OperationDefinitionNode) -> str:
    return f"'{operation.name.value}'" if operation.name else "(anonymous)"


def _error(what: str, limit: int, node: OperationDefinitionNode | None = None) -> GraphQLError:
    return GraphQLError(f"{what}; the limit is {limit:,}.", node)


def _children(selection_set: SelectionSetNode) -> Iterator[SelectionSetNode]:
    for selection in selection_set.selections:
        if isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set:
            yield selection.selection_set


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """The fragment names spread anywhere in `selection_set`, not through other fragments."""
    pending = [selection_set]
    while pending:
        current = pending.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
        pending.extend(_children(current))


def _dependencies_first(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after the fragments it spreads; a spread that closes a cycle
    is ignored (validation refuses the cycle)."""
    order: list[str] = []
    state: dict[str, bool] = {}  # False: being visited, True: done
    for root in fragments:
        if root in state:
            continue
        state[root] = False
        stack = [(root, _spreads(fragments[root].selection_set))]
        while stack:
            name, spreads = stack[-1]
            spread = next(spreads, None)
            if spread is None:
                stack.pop()
                state[name] = True
                order.append(name)
            elif spread in fragments and spread not in state:
                state[spread] = False
                stack.append((spread, _spreads(fragments[spread].selection_set)))
    return order


class _Shape:
    """Depth and alias count of selection sets, each fragment measured once, before the
    fragments that spread it; recursion goes only as deep as one definition's nesting,
    which the parser bounds."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.depths: dict[str, int] = {}
        self.alias_counts: dict[str, int] = {}
        for name in _dependencies_first(fragments):
            selection_set = fragments[name].selection_set
            self.depths[name] = self.depth(selection_set)
            self.alias_counts[name] = self.aliases(selection_set)

    def depth(self, selection_set: SelectionSetNode) -> int:
        """Levels of fields, as strawberry's limiter counted them: a field with a selection
        counts one more than its deepest child; a leaf, or introspection, counts nothing."""
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set and not selection.name.value.startswith("__"):
                    deepest = max(deepest, 1 + self.depth(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.depth(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, self.depths.get(selection.name.value, 0))
        return deepest

    def aliases(self, selection_set: SelectionSetNode) -> int:
        """Aliased fields, a fragment's counted once per spread (as strawberry's limiter
        counted them)."""
        count = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                count += selection.alias is not None
                if selection.selection_set:
                    count += self.aliases(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                count += self.aliases(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                count += self.alias_counts.get(selection.name.value, 0)
        return count

    def introspection_alias(self, operations: list[OperationDefinitionNode]) -> FieldNode | None:
        """An aliased field that is `__schema` or `__type`, under one, or in a fragment on
        an introspection type; None when there is none. Each node is looked at once."""
        inside: list[SelectionSetNode] = []
        outside = [o.selection_set for o in operations]
        for fragment in self.fragments.values():
            on_schema = fragment.type_condition.name.value.startswith("__")
            (inside if on_schema else outside).append(fragment.selection_set)
        while outside:
            current = outside.pop()
            for selection in current.selections:
                if isinstance(selection, FieldNode) and selection.name.value in _INTROSPECTION:
                    if selection.alias is not None:
                        return selection
                    if selection.selection_set:
                        inside.append(selection.selection_set)
                elif isinstance(selection, (FieldNode, InlineFragmentNode)):
                    if selection.selection_set:
                        outside.append(selection.selection_set)
        while inside:
            current = inside.pop()
            for selection in current.selections:
                if isinstance(selection, FieldNode) and selection.alias is not None:
                    return selection
            inside.extend(_children(current))
        return None


def selections_over(
    roots: Iterable[SelectionSetNode], fragments: dict[str, FragmentDefinitionNode], limit: int
) -> bool:
    """Whether the selections under `roots` weigh more than `limit`, fragments expanded as
    execution expands them: each fragment once per object it is spread into.

    Weight: every field, inline fragment and spread met, plus, for each response key of
    an object, one per pair of fields merged under it. Stops as soon as it is over
    `limit`, so it takes at most about `limit` steps whatever the document. A fragment
    spread inside itself is not followed again (validation refuses the cycle).
    """
    weight = 0
    # Each entry: the selection sets merged into one object, each with the fragments it
    # was reached through.
    pending: list[list[tuple[SelectionSetNode, frozenset[str]]]] = [
        [(root, frozenset())] for root in roots
    ]
    while pending:
        sets = pending.pop()
        by_key: dict[str, list[tuple[FieldNode, frozenset[str]]]] = {}
        expanded: set[str] = set()
        while sets:
            current, via = sets.pop()
            for selection in current.selections:
                weight += 1
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    same = by_key.setdefault(key, [])
                    weight += len(same)
                    same.append((selection, via))
                elif isinstance(selection, InlineFragmentNode):
                    sets.append((selection.selection_set, via))
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = fragments.get(name)
                    if fragment is not None and name not in expanded and name not in via:
                        expanded.add(name)
                        sets.append((fragment.selection_set, via | {name}))
            if weight > limit:
                return True
        for fields in by_key.values():
            children = [(f.selection_set, via) for f, via in fields if f.selection_set]
            if children:
                pending.append(children)
    return False
