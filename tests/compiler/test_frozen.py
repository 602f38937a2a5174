"""compiler/frozen.fast_init keeps every behaviour of the dataclass it speeds up."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from helmc.compiler.frozen import fast_init


@fast_init
@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int = 7
    tag: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Plain:
    x: int
    y: int = 7
    tag: str | None = None


@pytest.mark.parametrize(
    "args, kwargs", [((1,), {}), ((1, 2), {}), ((1, 2, "t"), {}), ((), {"x": 3, "tag": "u"}), ((4,), {"y": 5})]
)
def test_same_values_as_the_generated_init(args, kwargs):
    fast, plain = Point(*args, **kwargs), Plain(*args, **kwargs)
    assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
    assert repr(fast) == repr(plain).replace("Plain", "Point")


def test_still_frozen_hashable_and_comparable():
    p = Point(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3  # type: ignore[misc]
    assert p == Point(1, 2) and p != Point(1, 3) and hash(p) == hash(Point(1, 2))
    assert dataclasses.replace(p, y=9) == Point(1, 9)
    assert pickle.loads(pickle.dumps(p)) == p


def test_bad_calls_fail_as_before():
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, z=2)  # type: ignore[call-arg]


def test_refuses_what_it_does_not_reproduce():
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithFactory:
        xs: list = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError):
        fast_init(WithFactory)
