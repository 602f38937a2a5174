"""A local OpenAI-compatible API for tests and benchmarks: HELM's own OpenAIClient reaches it
through a prod_env `model_deployments.yaml` whose client_spec gives `base_url`.

It admits `rate` requests a second (a token bucket holding `burst`, one second's worth unless
told) and answers the rest 429 with `Retry-After`
(whole seconds, as HTTP has it) and `retry-after-ms` (as OpenAI's API sends); each admitted
request waits `latency` seconds, and every `error_every`-th admitted one answers 500. Counts of
what it saw are kept for the assertions. Offline: 127.0.0.1, a port of the OS's choosing.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "rigapi/rig-model"  # host organization `rigapi`: the scope of the governor's limits


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0  # every POST
        self.answered = 0  # 200s
        self.throttled = 0  # 429s
        self.errors = 0  # 500s
        self.bad = 0  # 400s (a prompt containing `REJECT`: a request no retry can fix)
        self.max_in_flight = 0
        self.in_flight = 0
        self.log: list[tuple[float, int]] = []  # (time.time() of arrival, status)


class RigServer:
    def __init__(self, rate: float | None = 10.0, latency: float = 0.0, error_every: int = 0,
                 burst: float | None = None) -> None:
        self.rate, self.latency, self.error_every = rate, latency, error_every
        self.burst = burst if burst is not None else max(1.0, rate or 1.0)
        self.counts = Counts()
        self._tokens, self._last = self.burst, time.monotonic()
        self._admitted_total = 0
        rig = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload, headers = rig._answer(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="openai-rig", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "RigServer":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

    def _admit(self) -> float | None:
        """A token bucket, as providers meter: `burst` requests at once (default: one second's
        worth), refilled at `rate` a second. None: admitted; else the seconds until one would be."""
        c = self.counts
        with c.lock:
            c.requests += 1
            now = time.monotonic()
            if self.rate is not None:
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens < 1.0:
                    c.throttled += 1
                    return (1.0 - self._tokens) / self.rate
                self._tokens -= 1.0
            self._admitted_total += 1
            c.in_flight += 1
            c.max_in_flight = max(c.max_in_flight, c.in_flight)
            return None

    def _answer(self, path: str, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        arrived = time.time()
        status, payload, headers = self._respond(body)
        with self.counts.lock:
            self.counts.log.append((arrived, status))
        return status, payload, headers

    def _respond(self, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        wait = self._admit()
        if wait is not None:
            return 429, {"error": {"message": "Rate limit reached for requests", "type": "requests",
                                   "code": "rate_limit_exceeded"}}, {
                "Retry-After": str(max(1, math.ceil(wait))), "retry-after-ms": str(max(1, round(wait * 1000)))}
        c = self.counts
        try:
            if self.latency:
                time.sleep(self.latency)
            request = json.loads(body or b"{}")
            text = json.dumps(request.get("messages") or request.get("prompt") or "")
            with c.lock:
                n = self._admitted_total
                if "REJECT" in text:
                    c.bad += 1
                    return 400, {"error": {"message": "This model's maximum context length is 1 tokens",
                                           "type": "invalid_request_error", "code": None}}, {}
                if self.error_every and n % self.error_every == 0:
                    c.errors += 1
                    return 500, {"error": {"message": "The server had an error", "type": "server_error"}}, {}
                c.answered += 1
            return 200, _completion(request), {}
        finally:
            with c.lock:
                c.in_flight -= 1


def _completion(request: dict[str, Any]) -> dict[str, Any]:
    n = int(request.get("n") or 1)
    return {
        "id": "chatcmpl-rig", "object": "chat.completion", "created": int(time.time()),
        "model": request.get("model", "rig-model"),
        "choices": [{"index": i, "message": {"role": "assistant", "content": " 7"}, "finish_reason": "stop",
                     "logprobs": None} for i in range(n)],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def write_prod_env(folder: str, base_url: str, *, max_retries: int | None = None) -> str:
    """A prod_env folder whose `rigapi/rig-model` is HELM's OpenAIClient pointed at the rig,
    with HELM's offline simple tokenizer. Returns the folder."""
    os.makedirs(folder, exist_ok=True)
    args = [f"      base_url: {base_url}", "      api_key: rig-key"]
    if max_retries is not None:
        args.append(f"      max_retries: {max_retries}")
    with open(os.path.join(folder, "model_deployments.yaml"), "w") as f:
        f.write("model_deployments:\n"
                f"  - name: {MODEL}\n    model_name: {MODEL}\n    tokenizer_name: simple/tokenizer1\n"
                "    max_sequence_length: 2048\n    client_spec:\n"
                "      class_name: helm.clients.openai_client.OpenAIClient\n      args:\n"
                + "\n".join("  " + a for a in args) + "\n")
    with open(os.path.join(folder, "model_metadata.yaml"), "w") as f:
        f.write("models:\n"
                f"  - name: {MODEL}\n    display_name: rig model\n    description: the local OpenAI-compatible rig\n"
                "    creator_organization_name: rigapi\n    access: open\n    release_date: 2024-01-01\n"
                "    tags: [TEXT_MODEL_TAG, FULL_FUNCTIONALITY_TEXT_MODEL_TAG, CHATML_MODEL_TAG]\n")
    return folder


def entries(runs: int) -> list[str]:
    """`runs` run entries of HELM's simple1 scenario on the rig's model, each with other prompts
    (another number of in-context examples), so that no run's requests are another's cache hits."""
    return [f"simple1:model={MODEL},model_deployment={MODEL},max_train_instances={i}" for i in range(runs)]
