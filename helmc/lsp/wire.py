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
        return await reader.readexactly(length)
    except Exception as e:  # asyncio.IncompleteReadError: the input ended inside the body
        raise FramingError(f"the input ended inside a message body ({e})") from None


def dispatch(protocol: Any, body: bytes) -> None:
    """Hand one message to pygls; answer requests that pygls would leave unanswered."""
    from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidRequest, JsonRpcParseError

    try:
        raw = json.loads(body)
    except ValueError:
        protocol._send_response(None, error=JsonRpcParseError().to_response_error())
        return
    if not isinstance(raw, dict):
        protocol._send_response(None, error=JsonRpcInvalidRequest().to_response_error())
        return
    msg_id = raw.get("id")
    is_request = "method" in raw and isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
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
