"""The one registry of diagnostic codes. Codes are stable: never renumber, only add.

HC00xx  conf file syntax (HOCON)
HC01xx  conf file schema (what HELM's RunEntries dataclass reads)
HC02xx  run entry syntax (what parse_object_spec reads)
HC03xx  resolution against the catalog (functions, arguments, expanders, models)
HC04xx  planning (filters, empty results, duplicates)
HC05xx  helm-run: what HELM itself builds and runs
HC06xx  HELM's config YAML files (prod_env: model deployments, model metadata, tokenizers)
HC07xx  execution: engines (HC0700-HC0749), the journal and `helmc status` (HC0750-HC0799)
HC08xx  requests and cost: the prices file (HC0800-HC0809), helm-run's budget (HC0810-HC0819)
HC09xx  inputs and the tool itself (unreadable files, internal errors)
"""

from __future__ import annotations

from enum import Enum

from .frozen import record


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@record
class Rule:
    """A diagnostic code as data: the docs (docs/diagnostics.md), SARIF's rule list and the
    language server's quick-fix titles are generated from it."""

    code: str
    name: str
    severity: Severity  # the default severity
    summary: str
    # Whether the code's diagnostics carry a fix and how sure it is (compiler/diagnostics.py's
    # Applicability): "safe" (--fix applies it), "unsafe" (only --unsafe-fixes), "unique" (safe
    # when one known name is closer than every other, else unsafe), or a mix said in words. The
    # fix itself is made, with its applicability, where the diagnostic is.
    fixes: str | None = None
    # The title of its quick fix in an editor; None: said from the edit (`Replace `a` with `b``).
    fix_title: str | None = None

    def title_of(self, old: str, new: str) -> str:
        """The quick-fix title of an edit from `old` to `new` made for this rule."""
        if self.fix_title is not None:
            return self.fix_title
        if "\n" in old + new or len(old) + len(new) > 80:
            return "Apply the suggested edit"
        if not new:
            return f"Remove `{old}`"
        if not old:
            return f"Insert `{new}`"
        return f"Replace `{old}` with `{new}`"


# The ranges, as docs/diagnostics.md lists them (scripts/gen_docs.py renders this table, and
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
    "HC08": "requests and cost: the prices file (HC0800-HC0809), helm-run's budget (HC0810-HC0819)",
    "HC09": "inputs and helmc itself",
}

_RULES = [
    # conf syntax
    Rule("HC0001", "unexpected-token", Severity.ERROR, "The conf file is not valid HOCON at this token.", fixes="unsafe, for a bracket that indentation says is never closed"),
    Rule("HC0002", "unterminated-string", Severity.ERROR, "A quoted string is not closed before the end of its line."),
    Rule("HC0003", "invalid-character", Severity.ERROR, "A character that HOCON reserves, or that pyhocon cannot read there "
         "(a byte order mark, an invisible space or line separator, a NUL byte), appears outside a quoted string.", fixes="safe, for a byte order mark or an invisible space between tokens"),
    Rule("HC0004", "include-unsupported", Severity.ERROR, "`include` is not supported in run entries conf files."),
    Rule("HC0005", "substitution-unsupported", Severity.ERROR, "`${...}` substitutions are not supported in run entries conf files."),
    Rule("HC0006", "invalid-concatenation", Severity.ERROR, "Values of different kinds are concatenated on one line."),
    Rule("HC0007", "verbatim-escape", Severity.WARNING, "A backslash escape that pyhocon keeps as written, backslash included."),
    Rule("HC0008", "too-deep", Severity.ERROR, "Objects and arrays are nested deeper than helmc reads."),
    Rule("HC0009", "missing-comma", Severity.ERROR, "A quoted string runs into the next key: a comma is missing, and the key and its value become text.", fixes="safe"),
    # conf schema
    Rule("HC0101", "missing-entries", Severity.ERROR, "The conf file has no top-level `entries` list.", fixes="unique, for a top-level key one typo from `entries`"),
    Rule("HC0102", "entries-not-list", Severity.ERROR, "`entries` is not a list."),
    Rule("HC0103", "entry-not-object", Severity.ERROR, "An element of `entries` is not an object."),
    Rule("HC0104", "missing-description", Severity.ERROR, "An entry has no `description`."),
    Rule("HC0105", "wrong-type", Severity.ERROR, "A field of an entry has the wrong type for HELM's RunEntry.", fixes="safe, for quotes around a number"),
    Rule("HC0106", "unknown-key", Severity.WARNING, "A key that HELM ignores without a word.", fixes="unique"),
    Rule("HC0107", "legacy-format", Severity.ERROR, "The conf file uses the pre-2023 format that HELM no longer reads.", fixes="safe", fix_title="Rewrite in the current format"),
    Rule("HC0108", "merged-objects", Severity.WARNING, "Objects side by side on one line are merged into one.", fixes="unsafe"),
    Rule("HC0109", "duplicate-key", Severity.WARNING, "A key is set twice in one object; the later value wins."),
    Rule("HC0110", "boolean-priority", Severity.WARNING, "A priority written as true or false, which HELM reads as 1 or 0.", fixes="safe"),
    Rule("HC0111", "single-quoted-string", Severity.ERROR, "A string in single quotes, which HOCON does not have.", fixes="safe"),
    # run entry syntax
    Rule("HC0201", "missing-equals", Severity.ERROR, "A run entry argument has no `=`."),
    Rule("HC0202", "empty-argument", Severity.ERROR, "A run entry has an empty argument (`,,` or a trailing `,`).", fixes="safe"),
    Rule("HC0203", "empty-name", Severity.ERROR, "A run entry has no run spec function name before `:`."),
    Rule("HC0204", "empty-key", Severity.ERROR, "A run entry argument has no name before `=`."),
    Rule("HC0205", "whitespace-in-entry", Severity.WARNING, "A run entry has spaces that HELM keeps as part of a name or value.", fixes="safe for a name, unsafe for a value"),
    # resolution
    Rule("HC0301", "unknown-function", Severity.ERROR, "No run spec function has this name.", fixes="unique"),
    Rule("HC0302", "unknown-argument", Severity.ERROR, "The run spec function has no parameter of this name and no run expander has it.", fixes="unique"),
    Rule("HC0303", "missing-argument", Severity.ERROR, "A required parameter of the run spec function is not given."),
    Rule("HC0304", "duplicate-argument", Severity.WARNING, "An argument is given twice; HELM keeps the last one."),
    Rule("HC0305", "wrong-argument-type", Severity.ERROR, "A value does not fit the parameter's annotation."),
    Rule("HC0306", "truthy-string", Severity.WARNING, "A bool parameter receives a string that HELM treats as true.", fixes="unsafe"),
    Rule("HC0307", "invalid-expander-value", Severity.ERROR, "A run expander receives a value it does not accept.", fixes="unique"),
    Rule("HC0308", "unknown-model", Severity.ERROR, "No model or model deployment has this name.", fixes="unique"),
    Rule("HC0309", "unknown-wildcard", Severity.ERROR, "A `model=` value looks like a wildcard that HELM does not have.", fixes="unique"),
    Rule("HC0310", "expander-shadows-argument", Severity.INFO, "A run expander and a function parameter share a name; the expander wins."),
    Rule("HC0311", "deprecated-model", Severity.WARNING, "The model is deprecated or unsupported in HELM."),
    Rule("HC0312", "deployment-model-mismatch", Severity.ERROR, "The model deployment serves a different model.", fixes="unsafe"),
    # fixes unsafe: HELM's own files use values its expanders do not name, on purpose
    Rule("HC0313", "unknown-expander-value", Severity.WARNING, "A run expander receives a value its code never names; HELM raises or falls back, by adapter method.", fixes="unsafe"),
    Rule("HC0314", "unknown-argument-value", Severity.ERROR, "A run spec function's argument is outside the values HELM's own files state it accepts (the scenario's check, or HELM's schema run groups).", fixes="unique"),
    # planning
    Rule("HC0401", "duplicate-entry", Severity.WARNING, "Two entries produce the same runs."),
    Rule("HC0402", "no-runs", Severity.ERROR, "Nothing is left to run after filtering."),
    Rule("HC0403", "entry-filtered", Severity.INFO, "An entry produces no runs after filtering."),
    Rule("HC0404", "models-to-run-unknown", Severity.ERROR, "A --models-to-run value is no model or deployment HELM knows."),
    Rule("HC0405", "models-to-run-required", Severity.ERROR, "helm-run needs --models-to-run for these entries."),
    Rule("HC0406", "duplicate-run-name", Severity.WARNING, "Two runs get one run name; the later overwrites the earlier's folder."),
    # helm-run and HELM
    Rule("HC0501", "helm-plan-mismatch", Severity.WARNING, "HELM built other RunSpecs than helmc planned for an entry."),
    Rule("HC0502", "helm-build-failed", Severity.ERROR, "HELM raised while building the RunSpecs of an entry."),
    Rule("HC0503", "run-failed", Severity.ERROR, "A run failed while HELM ran it; the diagnostic points at the entry that planned it."),
    Rule("HC0504", "run-folder-occupied", Severity.ERROR, "Something helm-run did not write (a file, a symbolic link) stands where a run's "
         "folder goes: the run is not started, and what is there is left as it is."),
    Rule("HC0505", "requests-failed", Severity.WARNING, "Requests of a run failed for good (the provider's answer, after the governor's retries); HELM completed the run without their answers."),
    # HELM's config YAML files (prod_env)
    Rule("HC0601", "yaml-syntax", Severity.ERROR, "A HELM config file is not valid YAML."),
    Rule("HC0602", "yaml-value", Severity.ERROR, "A YAML value that yaml.safe_load cannot construct."),
    Rule("HC0603", "config-unknown-key", Severity.WARNING, "A key of a HELM config file that HELM ignores without a word.", fixes="unique"),
    Rule("HC0604", "config-missing-field", Severity.ERROR, "A field that HELM's config dataclass requires is missing."),
    Rule("HC0605", "config-wrong-type", Severity.ERROR, "A value of a HELM config file has a type HELM cannot use.", fixes="safe for quotes HELM needs, unsafe for a size such as `2k` (1000 or 1024?)"),
    Rule("HC0606", "not-a-date", Severity.ERROR, "A date field holds something that is not a date."),
    Rule("HC0607", "unknown-access", Severity.WARNING, "A model's `access` is not one of the values HELM documents.", fixes="unique"),
    Rule("HC0608", "unknown-tag", Severity.WARNING, "A model tag that is none of HELM's tag constants.", fixes="unique"),
    Rule("HC0609", "unknown-class", Severity.ERROR, "A `class_name` names no class HELM (or a plugin) has.", fixes="unique"),
    Rule("HC0610", "unknown-class-argument", Severity.ERROR, "An `args` key that the class's constructor does not take.", fixes="unique"),
    Rule("HC0611", "kwargs-near-miss", Severity.WARNING, "An `args` key taken by **kwargs that is one edit away from a named parameter.", fixes="unique"),
    Rule("HC0612", "ignored-class-argument", Severity.WARNING, "An `args` key taken by **kwargs and never used.", fixes="unique"),
    Rule("HC0613", "unknown-tokenizer", Severity.ERROR, "A `tokenizer_name` that no built-in or local tokenizer config defines.", fixes="unique"),
    Rule("HC0614", "model-without-metadata", Severity.WARNING, "A deployment's model has no metadata anywhere."),
    Rule("HC0615", "duplicate-config-name", Severity.WARNING, "A name is defined twice in HELM's config files; the later one wins."),
    Rule("HC0616", "replaces-builtin", Severity.INFO, "A local config replaces one HELM ships with the same name."),
    Rule("HC0617", "missing-extra", Severity.WARNING, "A class needs an optional crfm-helm extra that is not installed."),
    # fixes unsafe: HELM reads the file today, with the value it turns it into
    Rule("HC0618", "coerced-value", Severity.WARNING, "HELM converts a value to the field's type, changing its meaning.", fixes="unsafe"),
    Rule("HC0619", "missing-class-argument", Severity.ERROR, "A required constructor parameter that neither `args` nor HELM provides."),
    Rule("HC0620", "config-duplicate-key", Severity.WARNING, "A key is set twice in one YAML mapping; the later value wins."),
    Rule("HC0621", "yaml-too-deep", Severity.ERROR, "YAML collections are nested deeper than helmc reads."),
    # helm-run engines
    Rule("HC0700", "unknown-engine", Severity.ERROR, "--engine names no engine helm-run has."),
    Rule("HC0701", "engine-extra-missing", Severity.ERROR, "The chosen engine needs an extra that is not installed."),
    Rule("HC0702", "ray-address-unreachable", Severity.ERROR, "No Ray cluster answers at --ray-address."),
    Rule("HC0703", "sbatch-not-found", Severity.ERROR, "--engine slurm submits with sbatch, which is not on PATH."),
    Rule("HC0704", "malformed-slurm-arg", Severity.ERROR, "A --slurm-arg is not KEY=VALUE."),
    Rule("HC0705", "unknown-slurm-parameter", Severity.ERROR, "A Slurm parameter that submitit does not know."),
    Rule("HC0706", "shared-sqlite-cache", Severity.ERROR, "Runs on several hosts would share HELM's SQLite request cache."),
    Rule("HC0707", "bad-engine-option", Severity.ERROR, "An engine flag out of range, or given to an engine it does not apply to."),
    Rule("HC0708", "bad-runner-config", Severity.ERROR, "The runner config file (--slurm-config) cannot be read as a mapping."),
    Rule("HC0709", "bad-request-limit", Severity.ERROR, "A --requests-per-minute, --tokens-per-minute or --max-concurrent-requests value is not SCOPE=N, or names no deployment or host organization."),
    Rule("HC0710", "limits-folder-not-shared", Severity.ERROR, "A Slurm job does not see, or cannot write, the folder through which the suite's jobs share the request limits."),
    # the run journal and `helmc status`
    Rule("HC0750", "journal-unwritable", Severity.ERROR, "The suite's journal cannot be read or written (the path and the OS error say why)."),
    Rule("HC0751", "journal-damaged", Severity.WARNING, "Parts of the suite's journal do not fit its format and are ignored; those runs are redone."),
    Rule("HC0752", "no-journal", Severity.ERROR, "`helmc status` finds no journal for the suite in the output folder."),
    # requests and cost: the prices file, the budget gate
    Rule("HC0800", "prices-yaml-syntax", Severity.ERROR, "The prices file (--prices) is not valid YAML."),
    Rule("HC0801", "prices-file-shape", Severity.ERROR, "The prices file has a key, value or shape its format does not have."),
    Rule("HC0802", "price-given-twice", Severity.WARNING, "The prices file prices one model twice; the later price is used."),
    Rule("HC0810", "over-budget", Severity.ERROR, "The plan's estimate is over --max-cost or --max-requests; helm-run starts nothing."),
    Rule("HC0811", "unpriced-runs", Severity.ERROR, "Under --max-cost, runs whose model has no price; helm-run starts nothing."),
    # inputs and the tool
    Rule("HC0901", "unreadable-file", Severity.ERROR, "A file cannot be read or decoded as UTF-8."),
    Rule("HC0902", "internal-error", Severity.ERROR, "helmc itself failed; please report it."),
]

CODES: dict[str, Rule] = {r.code: r for r in _RULES}

# Which codes carry a fix, and how sure it is: each rule's `fixes` (above), as one table for the
# docs and tests/compiler/test_fixes.py, which checks it against the fixes the examples make.
FIXES: dict[str, str] = {r.code: r.fixes for r in _RULES if r.fixes}
