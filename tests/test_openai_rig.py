"""The local OpenAI-compatible rig, reached by HELM's own OpenAIClient (crfm-helm and openai)."""

from __future__ import annotations

import time

import pytest

from openai_rig import MODEL, RigServer

pytest.importorskip("openai")
pytest.importorskip("helm.clients.openai_client")


def _client(rig: RigServer, max_retries: int = 0):
    from helm.clients.openai_client import OpenAIClient
    from helm.common.cache import BlackHoleCacheConfig

    return OpenAIClient(cache_config=BlackHoleCacheConfig(), api_key="rig-key", base_url=rig.base_url,
                        max_retries=max_retries)


def _request(prompt: str = "1 + 6 ="):
    from helm.common.request import Request

    return Request(model=MODEL, model_deployment=MODEL, prompt=prompt, max_tokens=2)


def test_helm_client_gets_an_answer() -> None:
    with RigServer(rate=None) as rig:
        result = _client(rig).make_request(_request())
    assert result.success, result.error
    assert result.completions[0].text == " 7"
    assert (rig.counts.requests, rig.counts.answered) == (1, 1)


@pytest.mark.parametrize("rate", [1, 3])
def test_beyond_the_rate_429_with_retry_after(rate: int) -> None:
    import openai

    with RigServer(rate=rate) as rig:
        client = _client(rig).client
        results = []
        for _ in range(rate + 2):
            try:
                client.chat.completions.create(model="rig", messages=[{"role": "user", "content": "x"}])
                results.append(200)
            except openai.RateLimitError as e:
                results.append(e.status_code)
                assert 1 <= int(e.response.headers["retry-after"]) <= 1
                assert 0 < int(e.response.headers["retry-after-ms"]) <= 1000
        assert results == [200] * rate + [429, 429]
        time.sleep(1.05)  # the window has passed: admitted again
        client.chat.completions.create(model="rig", messages=[{"role": "user", "content": "x"}])
    assert (rig.counts.answered, rig.counts.throttled) == (rate + 1, 2)


def test_errors_and_latency() -> None:
    with RigServer(rate=None, latency=0.2, error_every=2) as rig:
        client = _client(rig)
        t0 = time.monotonic()
        first, second = client.make_request(_request("a")), client.make_request(_request("b"))
        took = time.monotonic() - t0
        rejected = client.make_request(_request("REJECT this"))
    assert first.success and not second.success and "500" in (second.error or "")
    assert not rejected.success and "maximum context length" in (rejected.error or "")
    assert took >= 0.4
    assert (rig.counts.answered, rig.counts.errors, rig.counts.bad) == (1, 1, 1)
