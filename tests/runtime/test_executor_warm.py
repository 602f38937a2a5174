"""A spawned worker's background imports (executor._warm_in_background) wait for its run's
first request, which the governor signals; without a governor they start at once."""

from __future__ import annotations

import threading
import time

import pytest

import helmc.runtime.executor as executor
from helmc.runtime.governor import Governor, Limit, RequestLimits


@pytest.mark.parametrize("limited", [False, True])
def test_the_governor_signals_the_first_request(tmp_path, limited: bool) -> None:
    limits = RequestLimits((Limit("requests-per-minute", "rigapi", 6000),) if limited else (), folder=str(tmp_path))
    g = Governor(limits)
    assert not g.sending.is_set()
    g.send("rigapi/rig-model", {"prompt": "x"}, lambda: {"ok": True})
    assert g.sending.is_set()


class _Gov:
    def __init__(self) -> None:
        self.sending = threading.Event()


@pytest.mark.parametrize("governed", [False, True])
def test_background_imports_wait_for_the_first_request(monkeypatch, governed: bool) -> None:
    gov = _Gov() if governed else None
    imported = threading.Event()
    monkeypatch.setattr(executor, "governor_of_process", lambda: gov)
    monkeypatch.setattr(executor, "import_classes", lambda names: imported.set())
    monkeypatch.setattr(executor, "warm_sdks", lambda: None)
    executor._warm_in_background(["helm.benchmark.metrics.basic_metrics.BasicGenerationMetric"])
    if governed:
        assert not imported.wait(0.3)  # the run has not sent yet
        t0 = time.monotonic()
        gov.sending.set()
        assert imported.wait(5) and time.monotonic() - t0 < 5
    else:
        assert imported.wait(5)
