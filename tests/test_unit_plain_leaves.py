"""Plain leaf fields take the short way, and nothing a client sees changes.

The short way (schema/plain_leaves.py) must give the same data and the same errors as
graphql-core's full path. Each case runs one small schema twice: with the API's executor,
and with strawberry's own, and compares the results; the plans show which fields took
the short way at all.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar

import strawberry
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig

from schema.executor import ApiExecutor
from schema.plain_leaves import plain_leaf
from schema.schema import schema as api_schema


class Never(BasePermission):
    message = "Not for you."

    def has_permission(self, source: object, info: object, **kwargs: object) -> bool:
        return False


@strawberry.enum(description="A colour.")
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    title: str
    due: dt.date
    colour: Colour
    note: str | None
    broken: str  # set to None below: a non-null field that is null
    not_a_number: int  # set to a string below: a value the scalar refuses
    guarded: str = strawberry.field(permission_classes=[Never])

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.title.upper() * times


def _items() -> list[Item]:
    first = Item(
        title="Draft",
        due=dt.date(2027, 1, 4),
        colour=Colour.RED,
        note=None,
        broken="fine",
        not_a_number=3,
        guarded="secret",
    )
    second = Item(
        title='Ünïcode "quoted" <b>',
        due=dt.date(2027, 2, 1),
        colour=Colour.BLUE,
        note="a note",
        broken=None,  # type: ignore[arg-type]  # the case under test: a null where none may be
        not_a_number="x",  # type: ignore[arg-type]  # the case under test: a refused value
        guarded="secret",
    )
    return [first, second]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return _items()


class Observed(ApiExecutor):
    """The API's executor, kept once built, so a test can read how often it took the short
    way (`plain_reads`: whole objects, or single fields): the same answers prove nothing if
    the short way never ran."""

    last: ClassVar[ApiExecutor | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        Observed.last = self


def _run(executor: type | None, query: str) -> dict[str, object]:
    schema = strawberry.Schema(
        query=Query, execution_context_class=executor, config=StrawberryConfig()
    )
    result = schema.execute_sync(query)
    errors = [(e.message, e.path) for e in result.errors or []]
    return {"data": result.data, "errors": sorted(errors, key=str)}


def _fast(query: str) -> tuple[dict[str, object], int]:
    """The API executor's answer, and the number of fields it read the short way."""
    Observed.last = None
    result = _run(Observed, query)
    assert Observed.last is not None
    return result, Observed.last.plain_reads


def test_fields_read_straight_off_an_object_take_the_short_way() -> None:
    item = api_schema._schema.get_type("Milestone")
    planned = {name for name, field in item.fields.items() if plain_leaf(field)}
    assert {"title", "dueDate", "completed", "overdue"} <= planned
    # Resolvers, arguments and object types need the full path.
    assert "project" not in planned and "completedBy" not in planned
    local = strawberry.Schema(query=Query)._schema.get_type("Item")
    assert plain_leaf(local.fields["shout"]) is None
    assert plain_leaf(local.fields["guarded"]) is None  # a permission is a resolver's job
    assert plain_leaf(local.fields["colour"]) is not None


def test_values_and_enums_are_served_as_before() -> None:
    query = "{ items { title due colour note shout(times: 2) } }"
    fast, plain_reads = _fast(query)
    assert fast == _run(None, query)
    # Not all plain, so field by field: the four plain fields of both items the short way.
    assert plain_reads == 8
    assert fast["data"] == {
        "items": [
            {
                "title": "Draft",
                "due": "2027-01-04",
                "colour": "RED",
                "note": None,
                "shout": "DRAFTDRAFT",
            },
            {
                "title": 'Ünïcode "quoted" <b>',
                "due": "2027-02-01",
                "colour": "BLUE",
                "note": "a note",
                "shout": 'ÜNÏCODE "QUOTED" <B>ÜNÏCODE "QUOTED" <B>',
            },
        ]
    }


def test_a_null_or_refused_value_is_reported_as_by_the_full_path() -> None:
    for query in ("{ items { title broken } }", "{ items { title notANumber } }"):
        fast, plain_reads = _fast(query)
        assert fast == _run(None, query)
        # The first item in one go; the second's title alone, as its other field sent the
        # item to the full path.
        assert plain_reads == 2
        # The second item failed where it was: the list is non-null, so the whole field
        # goes null, with the error located at the item and field.
        assert fast["data"] is None
        assert len(fast["errors"]) == 1
        [(_, path)] = fast["errors"]  # type: ignore[misc]  # one error, checked above
        assert path[:2] == ["items", 1]


def test_an_object_of_plain_fields_is_served_as_before() -> None:
    # Every field plain: the whole object is read in one go.
    query = "{ items { title due colour note } }"
    fast, plain_reads = _fast(query)
    assert fast == _run(None, query)
    assert plain_reads == 2  # each item in one go
    assert fast["data"] == {
        "items": [
            {"title": "Draft", "due": "2027-01-04", "colour": "RED", "note": None},
            {
                "title": 'Ünïcode "quoted" <b>',
                "due": "2027-02-01",
                "colour": "BLUE",
                "note": "a note",
            },
        ]
    }


def test_a_permission_still_refuses() -> None:
    query = "{ items { guarded } }"
    fast, plain_reads = _fast(query)
    assert fast == _run(None, query)
    assert plain_reads == 0
    assert fast["data"] is None and "Not for you." in str(fast["errors"])
