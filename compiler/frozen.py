"""A faster `__init__` for the IR's frozen slots dataclasses.

A frozen dataclass sets each field with `object.__setattr__(self, name, value)`, a name lookup
per field: ~0.45 µs for a three-field Span, against ~0.15 µs for a plain class. A conf file of
10^4 entries makes 10^5 spans. `fast_init` replaces the generated `__init__` with one that
calls each slot's own descriptor, which is what `object.__setattr__` ends in; the class stays
a frozen dataclass (equality, hashing, repr, FrozenInstanceError on assignment).
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T", bound=type)


def fast_init(cls: T) -> T:
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    fields = dataclasses.fields(cls)
    if not (params.frozen and "__slots__" in cls.__dict__ and not hasattr(cls, "__post_init__")) or not all(
        f.init and f.default_factory is dataclasses.MISSING for f in fields
    ):
        raise TypeError(f"fast_init: {cls.__name__} is not a frozen slots dataclass of plain fields")
    env: dict[str, object] = {}
    args: list[str] = []
    body: list[str] = []
    for f in fields:
        env[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is not dataclasses.MISSING:
            env[f"_default_{f.name}"] = f.default
            args.append(f"{f.name}=_default_{f.name}")
        else:
            args.append(f.name)
        body.append(f"    _set_{f.name}(self, {f.name})")
    src = f"def __init__(self, {', '.join(args)}):\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(src, env)  # noqa: S102 - generated from the field names only, as dataclasses does
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]
    return cls
