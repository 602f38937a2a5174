"""Frozen slots dataclasses that are cheap to make and cheap to define.

`record` is `dataclass(frozen=True, slots=True)` for the IR and the plan. Defining one with
dataclasses costs about 0.8 ms: it compiles six methods from source (`__init__`, `__repr__`,
`__eq__`, `__hash__`, `__setattr__`, `__delattr__`), and helm-check defines 57 of them before it
reads a byte, a third of its start. `record` compiles only `__init__`; the others are shared
functions over the class's field names, `operator.attrgetter` making the tuples that
dataclasses' generated code writes out. tests/compiler/test_frozen.py holds every behaviour
to dataclasses' own: equality and hashing (compare=False and hash= fields), repr, replace,
fields, astuple, pickling, FrozenInstanceError, defaults, default_factory and __post_init__.

Its `__init__` is also faster to call: a frozen dataclass sets each field with
`object.__setattr__(self, name, value)`, a name lookup per field (~0.45 µs for a three-field
Span, against ~0.15 µs for a plain class; a conf file of 10^4 entries makes 10^5 spans), and
`record`'s calls each slot's own descriptor, which is what `object.__setattr__` ends in.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def record(cls: T) -> T:
    """`@dataclass(frozen=True, slots=True)`, the same class to every reader of it, defined
    without compiling five of its six methods."""
    cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False, slots=True)  # type: ignore[assignment]
    fields = dataclasses.fields(cls)
    compared = tuple(f.name for f in fields if f.compare)
    hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    shown = tuple(f.name for f in fields if f.repr)
    every = tuple(f.name for f in fields)
    key = attrgetter(*compared) if len(compared) > 1 else (lambda self, _k=tuple(compared): tuple(getattr(self, n) for n in _k))
    hash_key = attrgetter(*hashed) if len(hashed) > 1 else (lambda self, _k=tuple(hashed): tuple(getattr(self, n) for n in _k))
    state = attrgetter(*every) if len(every) > 1 else (lambda self, _k=every: tuple(getattr(self, n) for n in _k))

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hash_key(self))

    def __repr__(self: Any) -> str:
        return f"{self.__class__.__qualname__}(" + ", ".join([f"{n}={getattr(self, n)!r}" for n in shown]) + ")"

    def __setattr__(self: Any, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self: Any, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self: Any) -> tuple:
        return state(self) if len(every) > 1 else tuple(state(self))

    def __setstate__(self: Any, values: tuple) -> None:
        for name, value in zip(every, values if len(every) > 1 else tuple(values)):
            object.__setattr__(self, name, value)

    for method in (__eq__, __hash__, __repr__, __setattr__, __delattr__, __getstate__, __setstate__):
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        setattr(cls, method.__name__, method)
    cls.__init__ = _init(cls, fields)  # type: ignore[misc]
    return cls


def _init(cls: type, fields: tuple[dataclasses.Field, ...]) -> Any:
    """An `__init__` that sets each field through its slot's own descriptor, with
    default_factory and __post_init__ as dataclasses has them."""
    env: dict[str, object] = {"_MISSING": dataclasses.MISSING}
    args: list[str] = []
    body: list[str] = []
    for f in fields:
        env[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default_factory is not dataclasses.MISSING:
            env[f"_factory_{f.name}"] = f.default_factory
            args.append(f"{f.name}=_MISSING")
            body.append(f"    _set_{f.name}(self, _factory_{f.name}() if {f.name} is _MISSING else {f.name})")
            continue
        if f.default is not dataclasses.MISSING:
            env[f"_default_{f.name}"] = f.default
            args.append(f"{f.name}=_default_{f.name}")
        else:
            args.append(f.name)
        body.append(f"    _set_{f.name}(self, {f.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    src = f"def __init__(self, {', '.join(args)}):\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(src, env)  # noqa: S102 - generated from the field names only, as dataclasses does
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    return init
