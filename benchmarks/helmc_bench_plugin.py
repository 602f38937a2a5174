"""Benchmark-only HELM plugin: HELM's SimpleClient after a fixed delay per model call.

Real suites wait on remote model APIs; this stands for that latency through HELM's own
extension points (a client class named in --local-path's model_deployments.yaml, imported by
--plugins). The delay is a sleep, so it costs no CPU, like waiting on a network.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict

from helm.clients.simple_client import SimpleClient, SimpleClientRequest

DELAY_SECONDS = float(os.environ.get("HELMC_BENCH_DELAY", "0.5"))


class SlowSimpleClient(SimpleClient):
    def invoke_model(self, raw_request: SimpleClientRequest) -> Dict[str, Any]:
        time.sleep(DELAY_SECONDS)
        return super().invoke_model(raw_request)
