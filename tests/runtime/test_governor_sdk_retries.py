"""No SDK retries behind the governor's back (runtime/governor.py, quiet_sdk_retries): for every
HELM 0.5.16 client built on an SDK that is installed here, the HELM client is constructed as
HELM constructs it (its own class, pointed at a local API that answers every request 429), the
governor readies it, and one SDK call must reach the API exactly once. The same call on a client
the governor did not ready reaches it more than once where the SDK retries by itself: the check
can fail. Each case runs in its own process (cohere reads its base URL when it is imported)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from conftest import HELM_INSTALLED

pytestmark = [pytest.mark.helm, pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")]

MESSAGES = "[{'role': 'user', 'content': 'hi'}]"

# (case, SDK package, environment, how HELM builds the client, one SDK call on `c`, retries by default)
CASES = [
    ("openai", "openai", {},
     "from helm.clients.openai_client import OpenAIClient as K\n"
     "c = K(cache_config=BlackHoleCacheConfig(), api_key='k', base_url=URL)",
     f"c.client.chat.completions.create(model='m', messages={MESSAGES})", True),
    ("openai-moderation", "openai", {"OPENAI_BASE_URL": "{url}"},
     "from helm.clients.moderation_api_client import ModerationAPIClient as K\n"
     "c = K(api_key='k', cache_config=BlackHoleCacheConfig())",
     "c.client.moderations.create(input='hi')", True),
    ("anthropic-messages", "anthropic", {"ANTHROPIC_BASE_URL": "{root}"},
     "from helm.clients.anthropic_client import AnthropicMessagesClient as K\n"
     "c = K(cache_config=BlackHoleCacheConfig(), api_key='k')",
     f"c.client.messages.create(model='m', max_tokens=1, messages={MESSAGES})", True),
    ("writer", "writerai", {"WRITER_BASE_URL": "{root}", "WRITER_API_KEY": "k"},
     "from helm.clients.writer_client import WriterClient as K\n"
     "c = K(cache_config=BlackHoleCacheConfig(), api_key='k')",
     f"c._writer_client.chat.chat(model='m', messages={MESSAGES})", True),
    ("together-chat", "together", {"TOGETHER_BASE_URL": "{url}"},
     "from helm.clients.together_client import TogetherChatClient as K\n"
     "c = K(cache_config=BlackHoleCacheConfig(), api_key='k')",
     f"c._client.chat.completions.create(model='m', messages={MESSAGES})", None),
    ("cohere-chat", "cohere", {"CO_API_URL": "{root}"},
     "from helm.clients.cohere_client import CohereChatClient as K\n"
     "c = K(api_key='k', cache_config=BlackHoleCacheConfig())",
     "c.client.chat(model='m', message='hi')", True),
    ("mistral", "mistralai", {},
     "from helm.clients.mistral_client import MistralAIClient as K\n"
     "c = K(cache_config=BlackHoleCacheConfig(), api_key='k')\n"
     "c._client.sdk_configuration.server_url = ROOT",
     f"c._client.chat.complete(model='m', messages={MESSAGES})", False),
    ("bedrock", "botocore", {"AWS_ENDPOINT_URL": "{root}", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
                             "AWS_DEFAULT_REGION": "us-east-1"},
     "from helm.clients.bedrock_client import BedrockTitanClient as K\n"
     "c = K(cache_config=BlackHoleCacheConfig(), tokenizer=None, tokenizer_name='simple/tokenizer1', region='us-east-1')",
     "c.bedrock_client.invoke_model(modelId='m', body=b'{}')", None),
    ("huggingface-inference-providers", "huggingface_hub", {},
     "from helm.clients.huggingface_inference_providers_client import HuggingFaceInferenceProvidersClient as K\n"
     "c = K(cache_config=BlackHoleCacheConfig(), api_key='k', base_url=ROOT)",
     f"c._client.chat_completion(messages={MESSAGES}, model='m')", False),
]


class _Always429:
    """Answers every request 429 with a Retry-After of (almost) nothing, and counts them."""

    def __init__(self) -> None:
        self.count = 0
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def _any(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    owner.count += 1
                data = json.dumps({"error": {"message": "Rate limit reached", "type": "rate_limit_error"},
                                   "message": "Rate limit reached"}).encode()
                self.send_response(429)
                for k, v in {"Retry-After": "0", "retry-after-ms": "1", "x-amzn-ErrorType": "ThrottlingException",
                             "Content-Type": "application/json", "Content-Length": str(len(data))}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = _any  # noqa: N815 - http.server's names

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def api() -> Iterator[_Always429]:
    server = _Always429()
    yield server
    server.close()


def _call(api: _Always429, env: dict[str, str], build: str, call: str, ready: bool) -> tuple[int, str]:
    """Requests the API saw for one SDK call on a HELM client built in a fresh process, and what
    quiet_sdk_retries said it did."""
    code = textwrap.dedent("""
        import os, warnings
        warnings.filterwarnings("ignore")
        from helm.common.cache import BlackHoleCacheConfig
        from helmc.runtime import governor
        ROOT = os.environ["HELMC_TEST_ROOT"]; URL = ROOT + "/v1"
    """) + build + "\n" + textwrap.dedent(f"""
        how = []
        if {ready!r}:
            how = [h for h in (governor.quiet_sdk_retries(v) for v in list(vars(c).values())) if h]
            governor._ready(c)
        try:
            {call}
        except Exception as e:
            print("raised", type(e).__name__)
        print("HOW", how)
    """)
    full_env = {**_base_env(), "HELMC_TEST_ROOT": api.root,
                **{k: v.format(root=api.root, url=api.root + "/v1") for k, v in env.items()}}
    before = api.count
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return api.count - before, r.stdout


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPENAI_", "ANTHROPIC_", "CO_API"))}


@pytest.mark.parametrize("case,package,env,build,call,retries", CASES, ids=[c[0] for c in CASES])
def test_one_sdk_call_is_one_request_once_the_governor_readied_the_client(
        api: _Always429, case: str, package: str, env: dict, build: str, call: str, retries: bool | None) -> None:
    pytest.importorskip(package)
    sent, out = _call(api, env, build, call, ready=True)
    assert "raised" in out, out  # the 429 reached the caller: the governor's to retry
    assert sent == 1, f"{case}: {sent} requests for one call ({out.strip()})"
    if retries is not False:  # the SDK retries on its own: readied, it said how it stopped that
        assert "HOW []" not in out, out
    if retries is True:  # (None: its own backoff is too long to wait for here)
        unreadied, _ = _call(api, env, build, call, ready=False)
        assert unreadied > 1, f"{case}: the SDK did not retry by itself ({unreadied} request)"
    elif retries is False:  # no retries of its own, readied or not
        unreadied, _ = _call(api, env, build, call, ready=False)
        assert unreadied == 1
