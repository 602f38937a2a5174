"""`helmc lsp`'s stdio: the LSP base protocol's frames read by helmc itself, each message handed
to pygls, and the serve loop."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from typing import Any

log = logging.getLogger("helmc.lsp")


# ---------------------------------------------------------------------- the wire
#
# pygls's own reading loop trusts the framing: a header without Content-Length (or a negative
# one) makes it read the next messages' bytes as headers, so it stays alive but never answers
# again; a request whose params do not fit gets a window message instead of a response. helmc
# reads the frames itself: a broken frame ends the server (exit 1, so the editor restarts it:
# the stream cannot be trusted any more), a body that is no JSON gets a Parse error, and a
# request with bad params gets an Invalid params error, both as JSON-RPC says.

MAX_MESSAGE_BYTES = 512 * 1024 * 1024  # a 64 MB document in JSON, with room to spare


class FramingError(Exception):
    """The byte stream no longer follows the LSP base protocol."""


async def read_frame(reader: Any) -> bytes | None:
    """One message body, None at the end of input. Raises FramingError."""
    headers: dict[bytes, bytes] = {}
    while True:
        line = await reader.readline()
        if not line:
            if headers:
                raise FramingError("the input ended in the middle of a message's headers")
            return None
        if line in (b"\r\n", b"\n"):
            if not headers:
                continue  # a stray empty line between messages
            break
        name, sep, value = line.partition(b":")
        if not sep or len(headers) > 16:
            raise FramingError(f"a header line is malformed: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    raw = headers.get(b"content-length")
    if raw is None:
        raise FramingError("a message has no Content-Length header")
    if not raw.isdigit():
        raise FramingError(f"Content-Length is not a number of bytes: {raw[:40]!r}")
    length = int(raw)
    if length > MAX_MESSAGE_BYTES:
        raise FramingError(f"Content-Length {length} is above the limit of {MAX_MESSAGE_BYTES} bytes")
    try:
        body = await reader.readexactly(length)
    except Exception as e:  # asyncio.IncompleteReadError: the input ended inside the body
        raise FramingError(f"the input ended inside a message body ({e})") from None
    if len(body) < length:  # a reader that returns what it got at the end of input
        raise FramingError(f"the input ended inside a message body ({len(body)} of {length} bytes)")
    return body


def dispatch(protocol: Any, body: bytes) -> None:
    """Hand one message to pygls; answer requests that pygls would leave unanswered."""
    from pygls.exceptions import (JsonRpcException, JsonRpcInternalError, JsonRpcInvalidRequest, JsonRpcParseError,
                                  JsonRpcServerNotInitialized)

    try:
        raw = json.loads(body)
    except ValueError:
        protocol._send_response(None, error=JsonRpcParseError().to_response_error())
        return
    if not isinstance(raw, dict):
        protocol._send_response(None, error=JsonRpcInvalidRequest().to_response_error())
        return
    msg_id = raw.get("id")
    problem = _shape_problem(raw)
    if problem is not None:  # pygls would fail on it with a traceback (an unhashable id...)
        log.warning("unusable message %s: %s", raw.get("method"), problem)
        valid_id = "method" in raw and isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
        protocol._send_response(msg_id if valid_id else None, error=JsonRpcInvalidRequest(problem).to_response_error())
        return
    is_request = "method" in raw and isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
    # The LSP's order, which pygls does not keep: nothing but `initialize` (or `exit`) before
    # `initialize`, and after `shutdown` every request but `exit` is an InvalidRequest.
    method = raw.get("method")
    if method is not None and method != "exit":
        if not getattr(protocol, "_helmc_initialize_seen", False) and method != "initialize":
            log.warning("message %s before initialize: %s", method, "answered ServerNotInitialized" if is_request else "dropped")
            if is_request:
                protocol._send_response(msg_id, error=JsonRpcServerNotInitialized().to_response_error())
            return
        if method == "initialize":
            protocol._helmc_initialize_seen = True
        elif getattr(protocol, "_shutdown", False) and is_request:
            log.warning("request %s after shutdown: answered InvalidRequest", method)
            protocol._send_response(msg_id, error=JsonRpcInvalidRequest(
                "the server is shut down: only `exit` is accepted").to_response_error())
            return
    try:
        message = protocol.structure_message(raw)
        if not hasattr(message, "jsonrpc"):
            raise JsonRpcInvalidRequest()
    except JsonRpcException as e:
        log.warning("unusable message %s: %s", raw.get("method"), e)
        if is_request:
            protocol._send_response(msg_id, error=e.to_response_error())
        return
    try:
        protocol.handle_message(message)
    except Exception:  # noqa: BLE001 - pygls answers handler errors itself; this is its own failure
        log.exception("cannot handle %s", raw.get("method"))
        if is_request:
            protocol._send_response(msg_id, error=JsonRpcInternalError().to_response_error())


def _shape_problem(raw: dict) -> str | None:
    """What JSON-RPC 2.0 forbids in a message's shape that pygls does not check: an id that is
    not a number, a string or null; a response with both or neither of result and error."""
    if "id" in raw and raw["id"] is not None and (isinstance(raw["id"], bool) or not isinstance(raw["id"], (int, float, str))):
        return f"an id must be a number, a string or null, not {type(raw['id']).__name__}"
    if "method" not in raw and ("result" in raw) == ("error" in raw):
        return "a message with no method must be a response, with either a result or an error"
    if "method" in raw and not isinstance(raw["method"], str):
        return "a method must be a string"
    return None


class OneLineLog(logging.Formatter):
    """The server's log (an editor's output panel) holds one line per record: pygls logs a
    client's malformed message with a traceback, though the message's JSON-RPC error says it
    all; a handler's own failure (a bug) names its exception. HELMC_DEBUG=1 keeps tracebacks."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage().split("\n", 1)[0]
        if record.exc_info and record.exc_info[1] is not None:
            e = record.exc_info[1]
            detail = str(e).split("\n", 1)[0]
            text += f" ({type(e).__name__}{': ' + detail if detail else ''})"
        return text


def _log_one_line() -> None:
    if os.environ.get("HELMC_DEBUG"):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineLog())
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)  # as Python's last-resort handler, which this replaces


async def serve(server: Any, reader: Any) -> int:
    """The message loop; returns the exit code (1 on a broken stream)."""
    server._loop = asyncio.get_running_loop()
    while not server._stop_event.is_set():
        try:
            body = await read_frame(reader)
        except FramingError as e:
            print(f"helmc lsp: the message stream is broken ({e}); exiting so that the editor restarts the server",
                  file=sys.stderr, flush=True)
            return 1
        if body is None:
            return 0
        dispatch(server.protocol, body)
    return 0


def main() -> int:
    from pygls.io_ import StdinAsyncReader, StdoutWriter

    from helmc.lsp.features import build_server

    _log_one_line()
    server = build_server()
    server._stop_event = threading.Event()
    # The protocol closes its writer on `exit`: give it a descriptor of its own, so that closing
    # it leaves the process's standard output (flushed once more at the end) open.
    sys.stdout.flush()
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    server.protocol.set_writer(StdoutWriter(out))
    code = 0
    try:
        code = asyncio.run(serve(server, StdinAsyncReader(sys.stdin.buffer, server.thread_pool)))
    except BrokenPipeError:
        code = 1  # the editor went away
    except SystemExit as e:
        # `exit`: 0 after `shutdown`, 1 without it (the protocol's own rule)
        code = e.code if isinstance(e.code, int) else 0
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        try:
            out.close()
        except OSError:
            pass  # the editor closed the pipe; nothing is left to say
    return code
