"""The one registry of diagnostic codes. Codes are stable: never renumber, only add.

HC00xx  conf file syntax (HOCON)
HC01xx  conf file schema (what HELM's RunEntries dataclass reads)
HC02xx  run entry syntax (what parse_object_spec reads)
HC03xx  resolution against the catalog (functions, arguments, expanders, models)
HC04xx  planning (filters, empty results, duplicates)
HC05xx  helm-run: what HELM itself builds and runs
HC06xx  HELM's config YAML files (prod_env: model deployments, model metadata, tokenizers)
HC07xx  execution: engines (HC0700-HC0749), the journal and `helmc status` (HC0750-HC0799)
HC09xx  inputs and the tool itself (unreadable files, internal errors)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: str  # default severity: "error" | "warning" | "info"
    summary: str


# The ranges, as docs/diagnostics.md lists them (tests/gen_docs.py renders this table, and
# tests/test_docs.py checks that every code falls in one): prefix -> what its codes are about.
RANGES: dict[str, str] = {
    "HC00": "conf file syntax (HOCON, as pyhocon reads it)",
    "HC01": "conf file schema (what HELM's `RunEntries` dataclass reads)",
    "HC02": "run entry syntax (what `parse_object_spec` reads)",
    "HC03": "names and values against HELM's catalog",
    "HC04": "planning: filters, empty suites, duplicates",
    "HC05": "running through HELM",
    "HC06": "HELM's config YAML files (`prod_env/`: model deployments, model metadata, tokenizer configs, runner config)",
    "HC07": "execution: helm-run's engines (HC0700-HC0749), the journal and `helmc status` (HC0750-HC0799)",
    "HC09": "inputs and helmc itself",
}

_RULES = [
    # conf syntax
    Rule("HC0001", "unexpected-token", "error", "The conf file is not valid HOCON at this token."),
    Rule("HC0002", "unterminated-string", "error", "A quoted string is not closed before the end of its line."),
    Rule("HC0003", "invalid-character", "error", "A character that HOCON reserves, or that pyhocon cannot read there "
         "(a byte order mark, an invisible space or line separator, a NUL byte), appears outside a quoted string."),
    Rule("HC0004", "include-unsupported", "error", "`include` is not supported in run entries conf files."),
    Rule("HC0005", "substitution-unsupported", "error", "`${...}` substitutions are not supported in run entries conf files."),
    Rule("HC0006", "invalid-concatenation", "error", "Values of different kinds are concatenated on one line."),
    Rule("HC0007", "verbatim-escape", "warning", "A backslash escape that pyhocon keeps as written, backslash included."),
    Rule("HC0008", "too-deep", "error", "Objects and arrays are nested deeper than helmc reads."),
    Rule("HC0009", "missing-comma", "error", "A quoted string runs into the next key: a comma is missing, and the key and its value become text."),
    # conf schema
    Rule("HC0101", "missing-entries", "error", "The conf file has no top-level `entries` list."),
    Rule("HC0102", "entries-not-list", "error", "`entries` is not a list."),
    Rule("HC0103", "entry-not-object", "error", "An element of `entries` is not an object."),
    Rule("HC0104", "missing-description", "error", "An entry has no `description`."),
    Rule("HC0105", "wrong-type", "error", "A field of an entry has the wrong type for HELM's RunEntry."),
    Rule("HC0106", "unknown-key", "warning", "A key that HELM ignores without a word."),
    Rule("HC0107", "legacy-format", "error", "The conf file uses the pre-2023 format that HELM no longer reads."),
    Rule("HC0108", "merged-objects", "warning", "Objects side by side on one line are merged into one."),
    Rule("HC0109", "duplicate-key", "warning", "A key is set twice in one object; the later value wins."),
    Rule("HC0110", "boolean-priority", "warning", "A priority written as true or false, which HELM reads as 1 or 0."),
    Rule("HC0111", "single-quoted-string", "error", "A string in single quotes, which HOCON does not have."),
    # run entry syntax
    Rule("HC0201", "missing-equals", "error", "A run entry argument has no `=`."),
    Rule("HC0202", "empty-argument", "error", "A run entry has an empty argument (`,,` or a trailing `,`)."),
    Rule("HC0203", "empty-name", "error", "A run entry has no run spec function name before `:`."),
    Rule("HC0204", "empty-key", "error", "A run entry argument has no name before `=`."),
    Rule("HC0205", "whitespace-in-entry", "warning", "A run entry has spaces that HELM keeps as part of a name or value."),
    # resolution
    Rule("HC0301", "unknown-function", "error", "No run spec function has this name."),
    Rule("HC0302", "unknown-argument", "error", "The run spec function has no parameter of this name and no run expander has it."),
    Rule("HC0303", "missing-argument", "error", "A required parameter of the run spec function is not given."),
    Rule("HC0304", "duplicate-argument", "warning", "An argument is given twice; HELM keeps the last one."),
    Rule("HC0305", "wrong-argument-type", "error", "A value does not fit the parameter's annotation."),
    Rule("HC0306", "truthy-string", "warning", "A bool parameter receives a string that HELM treats as true."),
    Rule("HC0307", "invalid-expander-value", "error", "A run expander receives a value it does not accept."),
    Rule("HC0308", "unknown-model", "error", "No model or model deployment has this name."),
    Rule("HC0309", "unknown-wildcard", "error", "A `model=` value looks like a wildcard that HELM does not have."),
    Rule("HC0310", "expander-shadows-argument", "info", "A run expander and a function parameter share a name; the expander wins."),
    Rule("HC0311", "deprecated-model", "warning", "The model is deprecated or unsupported in HELM."),
    Rule("HC0312", "deployment-model-mismatch", "error", "The model deployment serves a different model."),
    Rule("HC0313", "unknown-expander-value", "warning", "A run expander receives a value its code never names; HELM raises or falls back, by adapter method."),
    Rule("HC0314", "unknown-argument-value", "error", "A run spec function's argument is outside the values HELM's own files state it accepts (the scenario's check, or HELM's schema run groups)."),
    # planning
    Rule("HC0401", "duplicate-entry", "warning", "Two entries produce the same runs."),
    Rule("HC0402", "no-runs", "error", "Nothing is left to run after filtering."),
    Rule("HC0403", "entry-filtered", "info", "An entry produces no runs after filtering."),
    Rule("HC0404", "models-to-run-unknown", "error", "A --models-to-run value is no model or deployment HELM knows."),
    Rule("HC0405", "models-to-run-required", "error", "helm-run needs --models-to-run for these entries."),
    Rule("HC0406", "duplicate-run-name", "warning", "Two runs get one run name; the later overwrites the earlier's folder."),
    # helm-run and HELM
    Rule("HC0501", "helm-plan-mismatch", "warning", "HELM built other RunSpecs than helmc planned for an entry."),
    Rule("HC0502", "helm-build-failed", "error", "HELM raised while building the RunSpecs of an entry."),
    Rule("HC0503", "run-failed", "error", "A run failed while HELM ran it; the diagnostic points at the entry that planned it."),
    # HELM's config YAML files (prod_env)
    Rule("HC0601", "yaml-syntax", "error", "A HELM config file is not valid YAML."),
    Rule("HC0602", "yaml-value", "error", "A YAML value that yaml.safe_load cannot construct."),
    Rule("HC0603", "config-unknown-key", "warning", "A key of a HELM config file that HELM ignores without a word."),
    Rule("HC0604", "config-missing-field", "error", "A field that HELM's config dataclass requires is missing."),
    Rule("HC0605", "config-wrong-type", "error", "A value of a HELM config file has a type HELM cannot use."),
    Rule("HC0606", "not-a-date", "error", "A date field holds something that is not a date."),
    Rule("HC0607", "unknown-access", "warning", "A model's `access` is not one of the values HELM documents."),
    Rule("HC0608", "unknown-tag", "warning", "A model tag that is none of HELM's tag constants."),
    Rule("HC0609", "unknown-class", "error", "A `class_name` names no class HELM (or a plugin) has."),
    Rule("HC0610", "unknown-class-argument", "error", "An `args` key that the class's constructor does not take."),
    Rule("HC0611", "kwargs-near-miss", "warning", "An `args` key taken by **kwargs that is one edit away from a named parameter."),
    Rule("HC0612", "ignored-class-argument", "warning", "An `args` key taken by **kwargs and never used."),
    Rule("HC0613", "unknown-tokenizer", "error", "A `tokenizer_name` that no built-in or local tokenizer config defines."),
    Rule("HC0614", "model-without-metadata", "warning", "A deployment's model has no metadata anywhere."),
    Rule("HC0615", "duplicate-config-name", "warning", "A name is defined twice in HELM's config files; the later one wins."),
    Rule("HC0616", "replaces-builtin", "info", "A local config replaces one HELM ships with the same name."),
    Rule("HC0617", "missing-extra", "warning", "A class needs an optional crfm-helm extra that is not installed."),
    Rule("HC0618", "coerced-value", "warning", "HELM converts a value to the field's type, changing its meaning."),
    Rule("HC0619", "missing-class-argument", "error", "A required constructor parameter that neither `args` nor HELM provides."),
    Rule("HC0620", "config-duplicate-key", "warning", "A key is set twice in one YAML mapping; the later value wins."),
    # helm-run engines (issue 11)
    Rule("HC0700", "unknown-engine", "error", "--engine names no engine helm-run has."),
    Rule("HC0701", "engine-extra-missing", "error", "The chosen engine needs an extra that is not installed."),
    Rule("HC0702", "ray-address-unreachable", "error", "No Ray cluster answers at --ray-address."),
    Rule("HC0703", "sbatch-not-found", "error", "--engine slurm submits with sbatch, which is not on PATH."),
    Rule("HC0704", "malformed-slurm-arg", "error", "A --slurm-arg is not KEY=VALUE."),
    Rule("HC0705", "unknown-slurm-parameter", "error", "A Slurm parameter that submitit does not know."),
    Rule("HC0706", "shared-sqlite-cache", "error", "Runs on several hosts would share HELM's SQLite request cache."),
    Rule("HC0707", "bad-engine-option", "error", "An engine flag out of range, or given to an engine it does not apply to."),
    Rule("HC0708", "bad-runner-config", "error", "The runner config file (--slurm-config) cannot be read as a mapping."),
    # the run journal and `helmc status`
    Rule("HC0750", "journal-unwritable", "error", "The suite's journal cannot be read or written (the path and the OS error say why)."),
    Rule("HC0751", "journal-damaged", "warning", "Parts of the suite's journal do not fit its format and are ignored; those runs are redone."),
    Rule("HC0752", "no-journal", "error", "`helmc status` finds no journal for the suite in the output folder."),
    # inputs and the tool
    Rule("HC0901", "unreadable-file", "error", "A file cannot be read or decoded as UTF-8."),
    Rule("HC0902", "internal-error", "error", "helmc itself failed; please report it."),
]

CODES: dict[str, Rule] = {r.code: r for r in _RULES}

# Which codes carry a fix, and how sure it is (compiler/diagnostics.py's Applicability):
# "safe" (--fix applies it), "unsafe" (only --unsafe-fixes), "unique" (safe when one known
# name is closer than every other, else unsafe), or a mix said in words. The fix itself is
# made, with its applicability, where the diagnostic is; tests/test_fixes.py checks that the
# examples agree with this table, and docs/diagnostics.md shows it.
FIXES: dict[str, str] = {
    "HC0001": "unsafe, for a bracket that indentation says is never closed",
    "HC0003": "safe, for a byte order mark or an invisible space between tokens",
    "HC0009": "safe",
    "HC0101": "unique, for a top-level key one typo from `entries`",
    "HC0105": "safe, for quotes around a number",
    "HC0106": "unique",
    "HC0107": "safe",
    "HC0108": "unsafe",
    "HC0110": "safe",
    "HC0111": "safe",
    "HC0202": "safe",
    "HC0205": "safe for a name, unsafe for a value",
    "HC0301": "unique",
    "HC0302": "unique",
    "HC0306": "unsafe",
    "HC0307": "unique",
    "HC0308": "unique",
    "HC0309": "unique",
    "HC0312": "unsafe",
    "HC0313": "unsafe",  # HELM's own files use values its expanders do not name, on purpose
    "HC0314": "unique",
    # HELM's config YAML files (`--fix` edits them too):
    **{c: "unique" for c in ("HC0603", "HC0607", "HC0608", "HC0609", "HC0610", "HC0611", "HC0612", "HC0613")},
    "HC0605": "safe for quotes HELM needs, unsafe for a size such as `2k` (1000 or 1024?)",
    "HC0618": "unsafe",  # HELM reads the file today, with the value it turns it into
}
