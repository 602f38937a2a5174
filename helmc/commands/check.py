"""`helm-check PATH...`: lint conf files (and --run-entries) against HELM's rules."""

from __future__ import annotations

import argparse
import sys

from helmc.compiler.diagnostics import DiagnosticSink, Severity
from helmc.compiler.emit import FORMATS, emit
from helmc.compiler.frontend import conf_files_under, load_entries


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="conf files, or folders of *.conf files")
    parser.add_argument("--run-entries", nargs="+", default=[], metavar="ENTRY", help="run entries to check too")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--models-to-run", nargs="+", default=None, metavar="MODEL", help="as helm-run's flag")
    parser.add_argument("--local-path", default="prod_env", help="HELM's local config folder (default: prod_env)")
    parser.add_argument("--plugins", nargs="+", default=[], metavar="MODULE", help="plugin modules or paths")
    parser.add_argument("--enable-huggingface-models", nargs="+", default=[], metavar="MODEL")
    parser.add_argument("--enable-local-huggingface-models", nargs="+", default=[], metavar="PATH")
    parser.add_argument(
        "--no-catalog", action="store_true", help="check syntax and schema only, not names against HELM's catalog"
    )


def semantic_checks(entries, args, sink: DiagnosticSink) -> None:
    """Resolve names against the catalog (functions, arguments, expanders, models)."""
    try:
        from helmc.compiler.catalog import load_catalog
        from helmc.compiler.passes.resolve import check_entries
    except ImportError:
        return
    catalog = load_catalog_for(args, sink)
    if catalog is not None:
        check_entries(entries, catalog, sink)


def load_catalog_for(args, sink: DiagnosticSink):
    from helmc.compiler import catalog as cat

    loader = getattr(cat, "load_catalog_with_additions", None)
    if loader is not None:
        return loader(
            local_path=getattr(args, "local_path", None),
            plugins=getattr(args, "plugins", []) or [],
            enable_huggingface_models=getattr(args, "enable_huggingface_models", []) or [],
            enable_local_huggingface_models=getattr(args, "enable_local_huggingface_models", []) or [],
            sink=sink,
        )
    return cat.load_catalog()


def run(args: argparse.Namespace) -> int:
    if not args.paths and not args.run_entries:
        print("helm-check: give at least one conf file, folder or --run-entries", file=sys.stderr)
        return 2
    sink = DiagnosticSink()
    files = conf_files_under(args.paths)
    entries = load_entries(args.paths, args.run_entries, sink)
    if not args.no_catalog:
        semantic_checks(entries, args, sink)
    emit(sink.items, args.format, sys.stdout, files=len(files))
    return 1 if any(d.severity is Severity.ERROR for d in sink.items) else 0
