"""compiler/frozen.record is dataclass(frozen=True, slots=True) to every reader of the class:
the same values, equality, hashing, repr, replace, fields, pickling and errors."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helmc.compiler.frozen import record


def both(body: Callable[[], dict[str, Any]], annotations: dict[str, Any], name: str = "Point") -> tuple[type, type]:
    """The same class body (`body()` makes its defaults afresh) made by `record` and by dataclasses."""
    made = []
    for deco, cls_name in ((record, name), (dataclasses.dataclass(frozen=True, slots=True), name + "_dc")):
        ns = {"__annotations__": dict(annotations), "__module__": __name__, "__qualname__": cls_name, **body()}
        made.append(globals().setdefault(cls_name, deco(type(cls_name, (), ns))))  # found by pickle
    return made[0], made[1]


def same_repr(fast: Any, plain: Any) -> bool:
    return repr(fast) == repr(plain).replace(type(plain).__name__ + "(", type(fast).__name__ + "(")


FAST, PLAIN = both(lambda: {"y": 7, "tag": None}, {"x": "int", "y": "int", "tag": "str | None"})
KEYED, KEYED_PLAIN = both(
    lambda: {"note": dataclasses.field(default="", compare=False), "seen": dataclasses.field(default=0, hash=False, repr=False),
     "items": dataclasses.field(default_factory=list, compare=False)},
    {"x": "int", "note": "str", "seen": "int", "items": "list"},
    "Keyed",
)
ONE, ONE_PLAIN = both(dict, {"x": "Any"}, "One")
NONE, NONE_PLAIN = both(dict, {}, "Empty")

values = st.one_of(st.integers(), st.text(max_size=5), st.none(), st.tuples(st.integers()), st.floats(allow_nan=False))


@given(values, values, values)
def test_the_same_class_as_dataclasses_gives(x, y, tag):
    fast, plain = FAST(x, y, tag), PLAIN(x, y, tag)
    assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
    assert same_repr(fast, plain)
    assert hash(fast) == hash(plain)
    assert fast == FAST(x, y, tag) and fast != PLAIN(x, y, tag)  # another class is never equal
    assert (fast == FAST(x, y, "other")) == (plain == PLAIN(x, y, "other"))
    assert pickle.loads(pickle.dumps(fast)) == fast
    assert dataclasses.replace(fast, y=9) == FAST(x, 9, tag)
    assert [f.name for f in dataclasses.fields(fast)] == [f.name for f in dataclasses.fields(plain)]
    assert FAST.__match_args__ == PLAIN.__match_args__
    assert FAST.__slots__ == PLAIN.__slots__


@given(st.integers(), st.text(max_size=3), st.integers(), st.lists(st.integers(), max_size=3))
def test_compare_hash_repr_and_factory_fields(x, note, seen, items):
    fast, plain = KEYED(x, note, seen, items), KEYED_PLAIN(x, note, seen, items)
    assert same_repr(fast, plain)
    assert hash(fast) == hash(plain)
    assert (fast == KEYED(x, note + "!", seen + 1, [*items, 1])) == (plain == KEYED_PLAIN(x, note + "!", seen + 1, [*items, 1]))
    assert KEYED(x).items == [] and KEYED(x).items is not KEYED(x).items  # a fresh list each, as dataclasses
    assert pickle.loads(pickle.dumps(fast)) == fast and pickle.loads(pickle.dumps(fast)).items == items


def test_one_field_and_no_field():
    assert hash(ONE(3)) == hash(ONE_PLAIN(3)) and same_repr(ONE("a"), ONE_PLAIN("a"))
    assert ONE(3) == ONE(3) and ONE(3) != ONE(4) and pickle.loads(pickle.dumps(ONE(5))) == ONE(5)
    assert hash(NONE()) == hash(NONE_PLAIN()) and same_repr(NONE(), NONE_PLAIN()) and NONE() == NONE()


@pytest.mark.parametrize("cls", [FAST, PLAIN])
def test_frozen_and_bad_calls_as_dataclasses(cls):
    p = cls(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x
    with pytest.raises(TypeError):
        cls()
    with pytest.raises(TypeError):
        cls(1, z=2)
    with pytest.raises(TypeError):
        cls(1, 2, 3, 4)


def test_post_init_runs_as_dataclasses_runs_it():
    seen: list[str] = []

    def __post_init__(self) -> None:
        seen.append(self.x)
        object.__setattr__(self, "x", self.x.upper())

    fast, plain = both(lambda: {"__post_init__": __post_init__}, {"x": "str"}, "Upper")
    assert (fast("a").x, plain("b").x) == ("A", "B") and seen == ["a", "b"]
