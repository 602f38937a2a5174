"""`helmc catalog`: build the catalog from HELM's source, or list what it holds.

    helmc catalog build [--from WHEEL|DIR] [-o FILE]   read HELM statically, write the JSON
    helmc catalog [list|functions|expanders|models|deployments|wildcards] [--format text|json|markdown]
    helmc catalog schema NAME                            JSON Schema of a HELM config YAML file (or of prices)
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from typing import Any

WHAT = ("list", "build", "functions", "expanders", "models", "deployments", "wildcards", "schema")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", nargs="?", choices=WHAT, default="list", help="build, or what to list (default: list = everything)")
    parser.add_argument(
        "name", nargs="?", default=None, help="schema: model_deployments, model_metadata, tokenizer_configs, runner_config or prices (--prices)"
    )
    parser.add_argument("--from", dest="source", default=None, metavar="PATH", help="build: a crfm-helm wheel or unpacked source (default: the installed crfm-helm)")
    parser.add_argument("-o", "--output", default=None, metavar="FILE", help="build: where to write the catalog (default: stdout)")
    parser.add_argument("--pretty", action="store_true", help="build: indent the JSON")
    parser.add_argument("--config-output", default=None, metavar="FILE", help="build: also write what HELM's config YAML files may hold (helm-config-VERSION.json)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument("--local-path", default=None, help="add prod_env model configs, as helm-run does")
    parser.add_argument("--plugins", nargs="+", default=[], metavar="MODULE")
    parser.add_argument("--enable-huggingface-models", nargs="+", default=[], metavar="MODEL")
    parser.add_argument("--enable-local-huggingface-models", nargs="+", default=[], metavar="PATH")


def run(args: argparse.Namespace) -> int:
    if args.what == "build":
        return _build(args)
    if args.what == "schema":
        return _schema(args)
    if args.name is not None:
        print(f"helmc catalog {args.what}: unexpected argument `{args.name}`", file=sys.stderr)
        return 2
    from helmc.app.options import options_from_args
    from helmc.compiler.catalog.catalog import CatalogError, load_catalog

    try:
        cat = load_catalog(options_from_args(args).catalog)
    except CatalogError as e:
        print(f"helmc catalog: {e}", file=sys.stderr)
        return 2
    if args.format == "json":
        json.dump(_as_json(cat, args.what), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    elif args.format == "markdown":
        sys.stdout.write(markdown(cat, args.what))
    else:
        _text(cat, args.what)
    return 0


def _build(args: argparse.Namespace) -> int:
    from helmc.compiler.catalog import build as cb

    try:
        src = cb.open_source(args.source)
        data = cb.build_catalog(src)
        if args.config_output:
            from helmc.compiler.catalog.build_config import build_config_catalog

            _write_json(build_config_catalog(src), args.config_output, args.pretty)
    except cb.CatalogBuildError as e:
        print(f"helmc catalog build: {e}", file=sys.stderr)
        return 2
    except SyntaxError as e:
        print(f"helmc catalog build: cannot parse {e.filename}: {e.msg} (line {e.lineno})", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"helmc catalog build: cannot write {args.config_output}: {e.strerror}", file=sys.stderr)
        return 2
    if args.output:
        try:
            _write_json(data, args.output, args.pretty)
        except OSError as e:
            print(f"helmc catalog build: cannot write {args.output}: {e.strerror}", file=sys.stderr)
            return 2
        print(
            f"wrote {args.output}: crfm-helm {data['helm_version']}, {len(data['run_spec_functions'])} run spec functions, "
            f"{len(data['expanders'])} run expanders, {len(data['models'])} models, {len(data['deployments'])} deployments",
            file=sys.stderr,
        )
    else:
        cb.dump_catalog(data, sys.stdout, compact=not args.pretty)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from helmc.compiler.prodenv.schema import json_schema, schema_names

    names = [*schema_names(), "prices"]
    if not args.name:
        print(f"helmc catalog schema: name one of {', '.join(names)}", file=sys.stderr)
        return 2
    try:
        if args.name in ("prices", "prices.yaml"):  # helmc's own prices file (--prices)
            from helmc.compiler.catalog.prices import json_schema as prices_schema

            schema = prices_schema()
        else:
            schema = json_schema(args.name)
    except KeyError as e:
        print(f"helmc catalog schema: {e.args[0]}", file=sys.stderr)
        return 2
    if args.output:
        _write_json(schema, args.output, pretty=True)
    else:
        json.dump(schema, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    return 0


def _write_json(data: dict[str, Any], path: str, pretty: bool) -> None:
    from helmc.compiler.catalog.build import dump_catalog

    from helmc.compiler.files.atomic_write import write_atomically

    text = io.StringIO()
    dump_catalog(data, text, compact=not pretty)
    write_atomically(path, text.getvalue())


# ---------------------------------------------------------------- listing


def _fn_json(f) -> dict[str, Any]:
    return {
        "name": f.name,
        "module": f.module,
        "function": f.function,
        "params": [
            {"name": p.name, "annotation": p.annotation, "default": p.default, "required": p.required} for p in f.params
        ],
        "var_keyword": f.var_keyword,
        "groups": list(f.groups) if f.groups is not None else None,
        "origin": f.origin,
    }


def _exp_json(e) -> dict[str, Any]:
    return {
        "name": e.name,
        "class": e.cls,
        "kind": e.kind,
        "choices": list(e.choices),
        "value_sets": e.value_sets,
        "value_type": e.value_type,
        "known_values": list(e.known_values),
    }


def _as_json(cat, what: str) -> Any:
    parts: dict[str, Any] = {}
    if what in ("list", "functions"):
        parts["run_spec_functions"] = [_fn_json(f) for f in cat.functions.values()]
    if what in ("list", "expanders"):
        parts["expanders"] = [_exp_json(e) for e in cat.expanders.values()]
    if what in ("list", "models"):
        parts["models"] = [
            {
                "name": m.name,
                "tags": list(m.tags),
                "deprecated": m.deprecated,
                "unsupported": m.unsupported,
                "deployment_names": list(m.deployment_names) if m.deployment_names is not None else None,
                "default_deployment": cat.default_deployment(m.name),
            }
            for m in cat.models.values()
        ]
    if what in ("list", "deployments"):
        parts["deployments"] = [
            {"name": d.name, "model_name": d.model_name, "tokenizer_name": d.tokenizer_name, "deprecated": d.deprecated}
            for d in cat.deployment_list
        ]
    if what in ("list", "wildcards"):
        parts["wildcards"] = cat.model_group_to_model_names()
    parts["helm_version"] = cat.helm_version
    return parts


def _text(cat, what: str) -> None:
    from helmc.compiler.emit.table import Column, console_for, print_table

    console = console_for(sys.stdout)
    if what in ("list", "functions"):
        print_table(console, f"{len(cat.functions)} run spec functions (crfm-helm {cat.helm_version})",
                    [Column("name"), Column("parameters", wrap=True), Column("module")],
                    [[f.name, f.signature(), f.module.removeprefix("helm.benchmark.run_specs.")]
                     for f in cat.functions.values()])
    if what in ("list", "expanders"):
        print_table(console, f"{len(cat.expanders)} run expanders", [Column("name"), Column("accepts", wrap=True)],
                    [[e.name, _accepts(e)] for e in cat.expanders.values()])
    if what in ("list", "wildcards"):
        print_table(console, "model groups (wildcards)", [Column("name"), Column("models", justify="right")],
                    [[k, str(len(v))] for k, v in cat.model_group_to_model_names().items()])
    if what in ("list", "models"):
        print_table(console, f"{len(cat.models)} models", [Column("name"), Column("status"), Column("default deployment")],
                    [[m.name, "deprecated" if m.deprecated else "unsupported" if m.unsupported else "",
                      cat.default_deployment(m.name) or ""] for m in cat.models.values()])
    if what == "deployments":
        print_table(console, f"{len(cat.deployment_list)} model deployments",
                    [Column("name"), Column("model"), Column("tokenizer"), Column("deprecated")],
                    [[d.name, d.model_name, d.tokenizer_name or "", "yes" if d.deprecated else ""]
                     for d in cat.deployment_list])


def _accepts(e) -> str:
    if e.kind == "none":
        return "no value (the expander takes none)"
    if e.kind == "model":
        return "a model, a model deployment, or a model group (see wildcards)"
    if e.kind == "choices":
        return "one of: " + ", ".join(e.choices)
    if e.kind == "value_set":
        sets = ", ".join(
            f"{k} = {v}" if isinstance(v, list) else f"{k} (per deployment)" for k, v in e.value_sets.items()
        )
        base = f"any {e.value_type}" if e.value_type else "any value"
        return base + (f"; value sets: {sets}" if sets else "")
    return f"any {e.value_type}" if e.value_type else "any value"


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def markdown(cat, what: str = "functions") -> str:
    """The reference docs/run_spec_functions.md is generated from (never edited by hand)."""
    lines = [
        "# Run spec functions",
        "",
        f"<!-- Generated by `helmc catalog functions --format markdown` from crfm-helm {cat.helm_version}; do not edit. -->",
        "",
        f"The {len(cat.functions)} run spec functions of crfm-helm {cat.helm_version}, the first part of a run entry "
        "(`name:` before the arguments), with the parameters each takes. Required parameters have no default. "
        "An argument whose name is a run expander goes to the expander, not to the function (see the end of this page).",
        "",
    ]
    by_module: dict[str, list] = {}
    for f in cat.functions.values():
        by_module.setdefault(f.module, []).append(f)
    for module in sorted(by_module):
        lines += [f"## `{module}`", "", "| name | parameters | groups |", "|---|---|---|"]
        for f in sorted(by_module[module], key=lambda x: x.name):
            params = []
            for p in f.params:
                s = f"`{p.name}`"
                if p.annotation:
                    s += f": `{p.annotation}`"
                s += " (required)" if p.required else f" = `{p.default}`"
                params.append(s)
            if f.var_keyword:
                params.append("any `key=value` (`**kwargs`)")
            groups = ", ".join(f"`{g}`" for g in f.groups) if f.groups else ("(computed)" if f.groups is None else "")
            lines.append(f"| `{f.name}` | {_md_escape('<br>'.join(params)) or '—'} | {_md_escape(groups)} |")
        lines.append("")
    lines += ["## Run expanders", "", "| name | accepts |", "|---|---|"]
    for e in cat.expanders.values():
        lines.append(f"| `{e.name}` | {_md_escape(_accepts(e))} |")
    lines += ["", "## Model groups (`model=` wildcards)", "", "| name | models in crfm-helm " + str(cat.helm_version) + " |", "|---|---|"]
    for k, v in cat.model_group_to_model_names().items():
        lines.append(f"| `{k}` | {len(v)} |")
    lines.append("")
    return "\n".join(lines)
