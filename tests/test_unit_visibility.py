"""schema/visibility.py's cached validation, without a server: cached per document and per
caller kind, so a hidden caller never gets an answer cached for one the schema is shown to.

The probes of tests/security/test_http.py check over HTTP what each caller is told.
"""

from __future__ import annotations

from graphql import parse, specified_rules

from schema.schema import schema
from schema.visibility import _CachedValidation

TYPO = "{ me { nam } }"
RULES = tuple(specified_rules)


def test_validation_is_cached_per_document_and_per_caller_kind() -> None:
    validate = _CachedValidation()
    shown = validate(schema._schema, TYPO, parse(TYPO), RULES, False)
    assert any("Did you mean" in e.message for e in shown)
    # The same document, a caller kind seen before: the cached answer.
    assert validate(schema._schema, TYPO, parse(TYPO), RULES, False) is shown
    assert validate.cache_info().hits == 1
    # A caller the schema is hidden from: worked out anew, with no suggestion.
    hidden = validate(schema._schema, TYPO, parse(TYPO), RULES, True)
    assert hidden and not any("Did you mean" in e.message for e in hidden)
    assert validate.cache_info().hits == 1
    assert validate(schema._schema, TYPO, parse(TYPO), RULES, True) is hidden
    assert validate.cache_info().hits == 2
