"""gc_paused: no cyclic collection inside, the collector's state as it was after."""

from __future__ import annotations

import contextlib
import gc

import pytest

from helmc.compiler.collector import gc_paused


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("raises", [False, True])
def test_the_collector_is_paused_inside_and_as_it_was_after(enabled, raises):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(RuntimeError) if raises else contextlib.nullcontext():
            with gc_paused():
                assert not gc.isenabled()
                if raises:
                    raise RuntimeError("an import failed")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()



class _Node:
    """A tracked object, as the IR's are."""

    def __init__(self) -> None:
        self.next: _Node | None = None


def _made_inside(n: int = 5000) -> list[_Node]:
    with gc_paused():
        return [_Node() for _ in range(n)]


def _in_generation(objects: list[_Node], generation: int) -> int:
    ids = {id(o) for o in objects}
    return sum(1 for o in gc.get_objects(generation=generation) if id(o) in ids)


def test_what_is_made_inside_leaves_as_old_objects():
    """The first collection after the pause must not scan all it made: it goes to the oldest
    generation, not the youngest."""
    was = gc.isenabled()
    frozen = gc.get_freeze_count()  # an earlier test's freeze before a fork, in this process
    gc.unfreeze()
    gc.enable()
    try:
        made = _made_inside()
        assert _in_generation(made, 0) == 0
        assert _in_generation(made, 2) == len(made)
    finally:
        if frozen:
            gc.freeze()
        (gc.enable if was else gc.disable)()


def test_frozen_objects_stay_frozen():
    """Objects frozen before a fork stay out of every collection: the pause does not unfreeze."""
    was = gc.isenabled()
    gc.enable()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        _made_inside()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        (gc.enable if was else gc.disable)()
