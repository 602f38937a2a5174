"""The language server over raw stdio (no LSP client library), for what a well-behaved client
never sends: bad JSON, bad params, unreadable documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


class RawLsp:
    """The server over raw stdio, for what a well-behaved client never sends."""

    def __init__(self, cwd: Path) -> None:
        self.p = subprocess.Popen([sys.executable, "-m", "helmc", "lsp"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
        self.buf = b""
        self.request(1, "initialize", {"capabilities": {}, "processId": None, "rootUri": None})
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def raw(self, data: bytes) -> None:
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, obj: dict) -> None:
        body = json.dumps(obj).encode()
        self.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, id_: int, method: str, params: object) -> dict:
        self.send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        return self.until(lambda m: m.get("id") == id_ and "method" not in m)

    def messages(self, timeout: float) -> list[dict]:
        import select

        out = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            while b"\r\n\r\n" in self.buf:
                head, rest = self.buf.split(b"\r\n\r\n", 1)
                n = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
                if len(rest) < n:
                    break
                out.append(json.loads(rest[:n]))
                self.buf = rest[n:]
            if out:
                return out
            ready, _, _ = select.select([self.p.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(self.p.stdout.fileno(), 1 << 16)
                if not chunk:
                    return out
                self.buf += chunk
        return out

    def until(self, pred, timeout: float = 30) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for m in self.messages(end - time.monotonic()):
                if pred(m):
                    return m
        raise AssertionError("no answer: the server is deaf or blocked")

    def close(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
