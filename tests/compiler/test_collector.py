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

