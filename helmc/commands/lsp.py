"""`helmc lsp`: the language server on stdio (needs the optional extra `helmc[lsp]`)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stdio", action="store_true", help="talk over stdin and stdout (the default and only transport)")


def run(args: argparse.Namespace) -> int:
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        from helmc.compiler.extras import install_hint

        print(
            "helmc lsp: the language server needs pygls and lsprotocol\n"
            f"  = help: install them with: {install_hint('lsp')}",
            file=sys.stderr,
        )
        return 2
    import os

    from helmc.lsp.wire import main

    code = main()  # 1 when the message stream broke: the editor restarts the server
    # The editor is gone: end now. A normal exit would join the checker's thread first, which
    # may be minutes into a big document (42 s measured on 200,000 entries) that nobody waits for.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
