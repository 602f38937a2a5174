"""One failing example and its fix for every diagnostic code.

This file is the single source of the examples: tests check that each `bad` input triggers
its code and each `fixed` input does not, snapshot the output, and docs/diagnostics.md is
generated from it (`python scripts/gen_docs.py`).

An example is a conf file (`conf`), or helm-check arguments (`args`, run against the conf
written to `run_entries.conf`), as its code needs. A code may have more than one: the first is its
example, each further one a `variant` (another form of the diagnostic, or another cause), keyed
`CODE-variant` in test ids and snapshots and shown after the first in docs/diagnostics.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    code: str
    bad: str  # conf file text
    fixed: str
    args: tuple[str, ...] = ()  # extra arguments of the command
    fixed_args: tuple[str, ...] | None = None  # arguments for `fixed`, when not `args`
    command: str = "check"  # "check", "plan", "run" or "status"
    note: str = ""  # what the docs say about the case, beyond the rule's summary
    needs_helm: bool = False  # the example needs crfm-helm installed (runs HELM, or asks what it has)
    requires: tuple[str, ...] = ()  # modules of optional extras it needs (ray, submitit)
    extra_files: dict[str, str] = field(default_factory=dict)
    exit_status: int | None = None  # when not the default (1 for an error): helm-run's bad usage is 2
    path: str = "run_entries.conf"  # the file `bad` and `fixed` are written to (a HELM config YAML for HC06xx)
    variant: str = ""  # a further example of the code: a short name (its `note` says what it shows)

    def __post_init__(self) -> None:
        # An example that picks an engine of an extra needs that extra's module, whether or not
        # it says so: it skips without it instead of failing on the HC0701 it gets.
        engines = [b for args in (self.args, self.fixed_args or ()) for a, b in zip(args, args[1:]) if a == "--engine"]
        implied = tuple(ENGINE_EXTRAS[e] for e in engines if e in ENGINE_EXTRAS)
        object.__setattr__(self, "requires", tuple(dict.fromkeys(self.requires + implied)))

    @property
    def key(self) -> str:
        """The example's name in test ids and snapshots: the code, or `CODE-variant`."""
        return f"{self.code}-{self.variant}" if self.variant else self.code


# helm-run's engines that come with an extra, and the module each extra installs.
ENGINE_EXTRAS = {"ray": "ray", "slurm": "submitit"}


def conf(*descriptions: str, extra: str = "") -> str:
    lines = [f'  {{description: "{d}", priority: 1{extra}}}' for d in descriptions]
    return "entries: [\n" + "\n".join(lines) + "\n]\n"


# A lab's run spec function, loaded with --plugins: it checks a value in its body.
LAB_RUN_SPECS = """\
from helm.benchmark.run_spec import RunSpec, run_spec_function
from helm.benchmark.run_specs.simple_run_specs import get_simple1_spec


@run_spec_function("lab_simple")
def get_lab_simple_spec(split: str = "valid") -> RunSpec:
    if split not in ("train", "valid"):
        raise ValueError(f"unknown split {split!r}: use train or valid")
    return get_simple1_spec()
"""

# helm-run with a prices file (the HC080x examples' `path`)
PRICED_RUN = ("--prices", "prices.yaml", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out")

EXAMPLES: list[Example] = [
    Example(
        "HC0001",
        'entries: [\n  {description: "simple1:model=simple/model1", priority 1}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0002",
        'entries: [\n  {description: "simple1:model=simple/model1, priority: 1}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0003",
        "entries: [\n  {description: simple1^2, priority: 1}\n]\n",
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0003",
        "\ufeff" + conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        variant="bom",
        note="The file starts with a byte order mark (U+FEFF, invisible above), as some Windows editors save "
        "UTF-8. HELM opens conf files as plain UTF-8, so pyhocon reads the mark as text and fails.",
    ),
    Example(
        "HC0003",
        conf("simple1:model=simple/model1").replace('", priority', '",\u00a0priority'),
        conf("simple1:model=simple/model1"),
        variant="no-break-space",
        note="The space after the comma is a no-break space (U+00A0, as pasted from a web page or a word "
        "processor). helmc's grammar would skip it like a space, but pyhocon takes only spaces and tabs "
        "between values, so HELM fails there. The fix puts a plain space in its place.",
    ),
    Example(
        "HC0003",
        conf("simple1:model=simple/model1").replace("[\n", "[\u2029\n").replace("}\n", "}\u2028\n"),
        conf("simple1:model=simple/model1"),
        variant="line-separators",
        note="A paragraph separator (U+2029) after `[` and a line separator (U+2028) after `}`: Unicode's "
        "own line breaks, which editors may show as nothing at all. pyhocon does not read them as spaces "
        "or line ends; each gets its own HC0003, whose fix puts a plain space in its place.",
    ),
    Example(
        "HC0003",
        conf("simple1:model=simple/model1").replace('", priority', '", \ufeffpriority'),
        conf("simple1:model=simple/model1"),
        variant="byte-order-mark-between-tokens",
        note="A byte order mark (U+FEFF) before `priority`, invisible above: what pasting text that began "
        "with one leaves. Between values pyhocon fails on it (or, right after a value, keeps it in the "
        "value); the fix removes it.",
    ),
    Example(
        "HC0003",
        "# written by make_confs.py\n" + "\ufeff" + conf("simple1:model=simple/model1"),
        "# written by make_confs.py\n" + conf("simple1:model=simple/model1"),
        variant="byte-order-mark-of-a-joined-file",
        note="A header joined before the entries (`cat header.conf entries.conf > run_entries.conf`): the "
        "second file began with a byte order mark (U+FEFF), which now starts line 2, invisible above, where "
        "the key `entries` should be. pyhocon fails on it; the fix removes it.",
    ),
    Example(
        "HC0004",
        'include "more_entries.conf"\nentries: [\n  {description: "simple1:model=simple/model1", priority: 1}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0005",
        'model: "simple/model1"\nentries: [\n  {description: "simple1:model="${model}, priority: 1}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0006",
        'entries: [\n  {description: "simple1:model=simple/model1" [1], priority: 1}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0007",
        'entries: [\n  {description: "simple1:model=simple\\/model1", priority: 1}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0008",
        "entries: " + "[" * 300 + "]" * 300 + "\n",
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0009",
        'entries: [\n  {description: "simple1:model=simple/model1" priority: 1}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0101",
        'runs: [\n  {description: "simple1:model=simple/model1", priority: 1}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0102",
        'entries: {description: "simple1:model=simple/model1", priority: 1}\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0103",
        "entries: [\n  Simple runs first\n"
        '  {description: "simple1:model=simple/model1", priority: 1}\n]\n',
        "entries: [\n  # Simple runs first\n"
        '  {description: "simple1:model=simple/model1", priority: 1}\n]\n',
    ),
    Example(
        "HC0104",
        'entries: [\n  {desc: "simple1:model=simple/model1", priority: 1}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0105",
        'entries: [\n  {description: "simple1:model=simple/model1", priority: "1"}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0105",
        conf("simple1:model=simple/model1").replace("priority: 1}", "priority: 1\ufeff}"),
        conf("simple1:model=simple/model1"),
        variant="invisible-character",
        note="A byte order mark (U+FEFF) right after `1`, invisible above, as pasting text that began with "
        "one can leave. pyhocon keeps it in the unquoted value, so HELM reads the priority as the string "
        "\"1\\ufeff\" and stops; the diagnostic names the character and the safe fix removes it.",
    ),
    Example(
        "HC0106",
        'entries: [\n  {description: "simple1:model=simple/model1", prioirty: 1}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0107",
        '"simple1:model=simple/model1": {priority: 1}\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0108",
        "entries: [\n"
        '  {description: "simple1:model=simple/model1", priority: 1}{description: "simple1:model=simple/model1,num_outputs=2", priority: 2}\n'
        "]\n",
        "entries: [\n"
        '  {description: "simple1:model=simple/model1", priority: 1}\n'
        '  {description: "simple1:model=simple/model1,num_outputs=2", priority: 2}\n'
        "]\n",
    ),
    Example(
        "HC0109",
        'entries: [\n  {description: "simple1:model=simple/model1", priority: 1, priority: 2}\n]\n',
        conf("simple1:model=simple/model1"),
    ),
    Example(
        "HC0110",
        'entries: [\n  {description: "simple1:model=simple/model1", priority: true}\n]\n',
        conf("simple1:model=simple/model1"),
        note="HELM runs the entry with priority 1 (`false` is 0): dacite takes a bool for an int.",
    ),
    Example(
        "HC0111",
        "entries: [\n  {description: 'simple1:model=simple/model1', priority: 1}\n]\n",
        conf("simple1:model=simple/model1"),
    ),
    Example("HC0201", conf("simple1:model"), conf("simple1:model=simple/model1")),
    Example("HC0202", conf("simple1:model=simple/model1,,num_outputs=2"), conf("simple1:model=simple/model1,num_outputs=2")),
    Example("HC0203", conf(":model=simple/model1"), conf("simple1:model=simple/model1")),
    Example("HC0204", conf("simple1:=simple/model1"), conf("simple1:model=simple/model1")),
    Example("HC0205", conf("simple1:model=simple/model1, num_outputs=2"), conf("simple1:model=simple/model1,num_outputs=2")),
    Example("HC0301", conf("simple:model=simple/model1"), conf("simple1:model=simple/model1")),
    Example("HC0302", conf("mmlu:subjet=anatomy,model=openai/gpt2"), conf("mmlu:subject=anatomy,model=openai/gpt2")),
    Example("HC0303", conf("mmlu:model=openai/gpt2"), conf("mmlu:subject=anatomy,model=openai/gpt2")),
    Example(
        "HC0304",
        conf("mmlu:subject=anatomy,subject=virology,model=openai/gpt2"),
        conf("mmlu:subject=virology,model=openai/gpt2"),
    ),
    Example(
        "HC0305",
        conf("audiocaps:num_respondents=two,model=openai/gpt2"),
        conf("audiocaps:num_respondents=2,model=openai/gpt2"),
    ),
    Example(
        "HC0306",
        conf("decodingtrust_ood_robustness:ood_type=style,task=knowledge,demo_name=base,idk=False,model=openai/gpt2"),
        conf("decodingtrust_ood_robustness:ood_type=style,task=knowledge,demo_name=base,model=openai/gpt2"),
    ),
    Example(
        "HC0307",
        conf("simple1:model=simple/model1,max_train_instances=al"),
        conf("simple1:model=simple/model1,max_train_instances=all"),
    ),
    Example(
        "HC0313",
        conf("mmlu:subject=anatomy,model=openai/gpt2,output_format_instructions=mmlu_only_last_questoin"),
        conf("mmlu:subject=anatomy,model=openai/gpt2,output_format_instructions=mmlu_only_last_question"),
        note="mmlu builds multiple_choice_joint runs, for which HELM silently uses its generic "
        "instruction when no branch names the value; for a generation run (narrative_qa) the same "
        "value is HC0307, since HELM raises there.",
    ),
    Example(
        "HC0308",
        conf("mmlu:subject=anatomy,model=eleutherai/pythia-1b"),
        conf("mmlu:subject=anatomy,model=eleutherai/pythia-1b-v0"),
    ),
    Example(
        "HC0309",
        conf("mmlu:subject=anatomy,model=txt"),
        conf("mmlu:subject=anatomy,model=text"),
        fixed_args=("--models-to-run", "openai/gpt2"),
        note="An error without --models-to-run (HELM finds no model of this name); a warning with it, since "
        "HELM then replaces every `model=` without `/` by the --models-to-run values. A model group such as "
        "`text` needs --models-to-run in helm-run (HC0405).",
    ),
    Example(
        "HC0310",
        conf("summarization_xsum:temperature=0.3,model=openai/gpt2"),
        conf("summarization_xsum:model=openai/gpt2"),
        note="The run expander `temperature` takes the value; the function's own `temperature` keeps its default.",
    ),
    Example("HC0311", conf("mmlu:subject=anatomy,model=openai/davinci"), conf("mmlu:subject=anatomy,model=openai/gpt2")),
    Example(
        "HC0312",
        conf("mmlu:subject=anatomy,model=openai/gpt2,model_deployment=huggingface/gpt-j-6b"),
        conf("mmlu:subject=anatomy,model=openai/gpt2,model_deployment=huggingface/gpt2"),
    ),
    Example(
        "HC0314",
        conf("legalbench:subset=abercrombi,model=openai/gpt2"),
        conf("legalbench:subset=abercrombie,model=openai/gpt2"),
        note="The values come from HELM's own source through the catalog generator (`helmc catalog build`): "
        "`get_legalbench_spec` passes `subset` to `LegalBenchScenario`, whose `__init__` asserts "
        "`subset in SUBSETS`. HELM raises there only when the run starts, after every run before it. A value "
        "the function or the scenario rewrites before the check (`gpqa` prefixes `gpqa_`, "
        "`multilingual_librispeech` lower-cases) is not checked.",
    ),
    Example(
        "HC0314",
        conf("mmlu:subject=anatmy,model=openai/gpt2"),
        conf("mmlu:subject=anatomy,model=openai/gpt2"),
        variant="schema-run-groups",
        note="Where the scenario checks nothing, HELM's schema files may still name the values: one run group "
        "`mmlu_VALUE` per MMLU subject in `schema_mmlu.yaml`. HELM builds this run and fails when it looks for "
        "the subject's data, so this is a warning.",
    ),
    Example(
        "HC0401",
        conf("mmlu:subject=anatomy,model=openai/gpt2", "mmlu:subject=anatomy,model=openai/gpt2"),
        conf("mmlu:subject=anatomy,model=openai/gpt2"),
    ),
    Example(
        "HC0401",
        conf("mmlu:subject=anatomy,model=openai/gpt2", "mmlu:subject=anatomy,model=text"),
        conf("mmlu:subject=anatomy,model=openai/gpt2"),
        args=("--models-to-run", "openai/gpt2"),
        variant="after-selection",
        note="The texts differ, but `--models-to-run openai/gpt2` filters the wildcard `model=text` to the very run "
        "the first entry plans. Duplicates are found on the plan, after every selection flag (--models-to-run, "
        "--groups-to-run, --priority), so a wildcard, a model group or a model without `/` is covered too.",
    ),
]

# Codes that come from planning, running or the tool itself: their examples run other commands.
EXAMPLES += [
    Example(
        "HC0402",
        conf("simple1:model=simple/model1").replace("priority: 1", "priority: 3"),
        conf("simple1:model=simple/model1"),
        args=("--priority", "2", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        note="helm-run reports it before anything runs (`--allow-no-runs` opts out); HELM only logs "
        '"There were no RunSpecs or they got filtered out." and exits 0.',
    ),
    Example(
        "HC0403",
        conf("mmlu:subject=anatomy,model=text", "simple1:model=simple/model1"),
        conf("mmlu:subject=anatomy,model=text", "simple1:model=simple/model1"),
        args=("--models-to-run", "openai/gpt2"),
        fixed_args=("--models-to-run", "openai/gpt2", "simple/model1"),
        command="plan",
        note="The second entry names its model, so --models-to-run does not rewrite it, and then "
        "filters its only run away; HELM does this without a word.",
    ),
    Example(
        "HC0404",
        conf("mmlu:subject=anatomy,model=text"),
        conf("mmlu:subject=anatomy,model=text"),
        args=("--models-to-run", "openai/gtp2"),
        fixed_args=("--models-to-run", "openai/gpt2"),
        command="plan",
        note="An error when no model, deployment or deployment generator has the name (helm-run "
        "raises `Unknown model ... passed to --models-to-run`); a warning, as here, when only a "
        "generator makes it, since HELM then accepts the typo and fails at the model's API.",
    ),
    Example(
        "HC0405",
        # not simple1: its AdapterSpec names the deployment simple/model1, so HELM raises for
        # any other model (HC0312)
        conf("gsm:model=text"),
        conf("simple1:model=simple/model1"),
        command="run",
        args=("-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        note="helm-run and helm-check (which passes only what helm-run would start); `helmc plan` "
        "expands wildcards to every model of the group, as HELM's run_entries_to_run_specs does.",
    ),
    Example(
        "HC0406",
        conf("simple1:model=simple/model1", "simple1:model=simple/model1").replace(
            "priority: 1}\n]", "priority: 1, groups: []}\n]"
        ),
        conf("simple1:model=simple/model1"),
        args=("-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        needs_helm=True,
        note="`groups: []` appends nothing to the run name, so both entries name their run "
        "`simple1:model=simple_model1`. HELM runs both into one folder; helm-run runs only the later one, "
        "which is what HELM leaves. helm-check and `helmc plan` report it wherever the names are known "
        "(`helmc plan --build` knows every name), once per pair of entries: when a model wildcard makes many "
        "runs of two entries share names, one HC0406 counts them and names the first few.",
    ),
    Example(
        "HC0406",
        conf("mmlu:subject=anatomy,model=text", "mmlu:subject=anatomy,model=text").replace(
            "priority: 1}\n]", "priority: 1, groups: []}\n]"
        ),
        conf("mmlu:subject=anatomy,model=text"),
        args=("--models-to-run", "openai/gpt2", "openai/gpt-3.5-turbo-0613", "openai/gpt-4-0613",
              "anthropic/claude-2.1", "meta/llama-2-7b"),
        variant="many-runs",
        note="A model wildcard with five models to run: the two entries plan five runs each, and each run "
        "of the second has the name of a run of the first. One HC0406 for the pair counts them, shows "
        "the first name and lists up to three more, instead of one warning per model.",
    ),
    Example(
        "HC0503",
        conf("simple1:model=simple/model1,model_deployment=lab/down-model1"),
        conf("simple1:model=simple/model1"),
        args=("-m", "1", "--local-path", ".", "--plugins", "lab_server_client.py", "--suite", "docs", "-o", "out"),
        command="run",
        needs_helm=True,
        extra_files={
            "model_deployments.yaml": "model_deployments:\n  - name: lab/down-model1\n    model_name: simple/model1\n"
            "    tokenizer_name: simple/tokenizer1\n    max_sequence_length: 2048\n    client_spec:\n"
            '      class_name: "lab_server_client.DownClient"\n',
            # a client that exists (no static check can object) whose server is down at run time
            "lab_server_client.py": "from helm.clients.simple_client import SimpleClient\n\n\n"
            "class DownClient(SimpleClient):\n"
            "    def make_request(self, request):\n"
            "        raise ConnectionError(\"the lab's model server at http://10.0.0.7:8000 is down\")\n",
        },
        note="Every failed run points at the entry that planned it, with HELM's exception and the run's log, in "
        "every --format: a request HELM's executor could not complete (as here) at `model_deployment=`, else "
        "`model=`; any other failure at the argument whose value HELM's one-line error names first. A run "
        "whose log helm-run cannot open (a FIFO or a folder where it goes) fails before HELM starts, and says "
        "so: `failed before HELM started`, with the path and the reason, never as HELM's error.",
    ),
    Example(
        "HC0504",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("-m", "1", "--suite", "docs", "-o", "out"),
        fixed_args=("-m", "1", "--suite", "docs-2", "-o", "out"),
        command="run",
        needs_helm=True,
        extra_files={"out/runs/docs/simple1:model=simple_model1": "notes the user keeps here\n"},
        note="helm-run writes each run aside and swaps the finished folder in; it replaces only folders (its own, "
        "or HELM's layout of an earlier run, whose other files it keeps). A file, a symbolic link or a FIFO at "
        "a run folder's path is the user's: that run is not started (no request is sent), the others run, and "
        "what is there stays, however often the suite is run again. The fix here chooses another suite; "
        "moving the file away works as well.",
    ),
    Example(
        "HC0505",
        conf("simple1:model=simple/model1,model_deployment=lab/strict-model1"),
        conf("simple1:model=simple/model1"),
        args=("-m", "1", "--local-path", ".", "--plugins", "lab_client.py", "--suite", "docs", "-o", "out"),
        command="run",
        needs_helm=True,
        exit_status=0,
        extra_files={
            "model_deployments.yaml": "model_deployments:\n  - name: lab/strict-model1\n    model_name: simple/model1\n"
            "    tokenizer_name: simple/tokenizer1\n    max_sequence_length: 2048\n    client_spec:\n"
            '      class_name: "lab_client.StrictClient"\n',
            "lab_client.py": "from helm.clients.simple_client import SimpleClient\n"
            "from helm.common.request import ErrorFlags, RequestResult\n\n\n"
            "class ContextTooLong(Exception):\n    status_code = 400  # as the openai package's BadRequestError\n\n\n"
            "class StrictClient(SimpleClient):\n"
            "    def make_request(self, request):\n"
            "        def send():\n"
            "            raise ContextTooLong(\"Error code: 400 - maximum context length is 8 tokens\")\n\n"
            "        try:\n"
            "            self.cache.get({\"prompt\": request.prompt}, send)\n"
            "        except ContextTooLong as e:\n"
            "            # not fatal: HELM completes the run without this answer\n"
            "            return RequestResult(success=False, cached=False, error=str(e), completions=[], embedding=[],\n"
            "                                 error_flags=ErrorFlags(is_retriable=True, is_fatal=False))\n",
        },
        note="A request that the provider refuses for good (a 400: no retry can fix it; or a 429 or a 5xx "
        "still answered after the governor's retries), at the entry that planned the run, with the "
        "provider's message. Where the client marks the failure not fatal (as here), HELM completes the run "
        "without that answer; where it does not (HELM's default), HELM stops the run and HC0503 comes too.",
    ),
    Example(
        "HC0502",
        conf("lab_simple:split=test,model=simple/model1"),
        conf("lab_simple:split=valid,model=simple/model1"),
        args=("--plugins", "lab_run_specs.py", "--models-to-run", "simple/model1", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        needs_helm=True,
        extra_files={"lab_run_specs.py": LAB_RUN_SPECS},
        note="helm-run has HELM build every run before any starts. Here a lab's own run spec function "
        "(`--plugins lab_run_specs.py`) refuses a value in its body, which no static check can see. The "
        "diagnostic points at the argument that the function's failing statement reads (from the traceback).",
    ),
    Example(
        "HC0700",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--engine", "lokal", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        fixed_args=("--engine", "local", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        exit_status=2,
        note="Checked before anything is compiled: a wrong engine flag starts nothing and writes nothing.",
    ),
    Example(
        "HC0702",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--engine", "ray", "--ray-address", "127.0.0.1:9", "--disable-cache", "-m", "1", "--dry-run",
              "--suite", "docs", "-o", "out"),
        fixed_args=("--engine", "ray", "--disable-cache", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        exit_status=2,
        requires=("ray",),
        note="helm-run tries a TCP connection (3 s at most) before starting anything. Without "
        "--ray-address, as in the fix, helm-run starts a Ray instance on this machine and stops it at the end.",
    ),
    Example(
        "HC0703",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--engine", "slurm", "--disable-cache", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        fixed_args=("--engine", "slurm", "--slurm-cluster", "local", "-m", "1", "--dry-run", "--suite", "docs",
                    "-o", "out"),
        command="run",
        exit_status=2,
        note="The fix runs the same submitit jobs with submitit's local executor, on this machine.",
    ),
    Example(
        "HC0704",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--engine", "slurm", "--slurm-cluster", "local", "--slurm-arg", "time:60", "-m", "1", "--dry-run",
              "--suite", "docs", "-o", "out"),
        fixed_args=("--engine", "slurm", "--slurm-cluster", "local", "--slurm-arg", "time=60", "-m", "1",
                    "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        exit_status=2,
    ),
    Example(
        "HC0705",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--engine", "slurm", "--slurm-cluster", "local", "--slurm-arg", "tiem=60", "-m", "1", "--dry-run",
              "--suite", "docs", "-o", "out"),
        fixed_args=("--engine", "slurm", "--slurm-cluster", "local", "--slurm-arg", "time=60", "-m", "1",
                    "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        exit_status=2,
        note="The keys are those of submitit's SlurmExecutor (its own list): `time` is in minutes, "
        "`gpus_per_node`, `mem`, `partition`, `account` and the others are sbatch's options.",
    ),
    Example(
        "HC0707",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--max-runs-per-provider", "0", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        fixed_args=("--max-runs-per-provider", "1", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        exit_status=2,
        note="Also for a flag of another engine (`--ray-address` without `--engine ray`), which would "
        "otherwise be ignored without a word, and for a number that is not finite (`nan`, `inf`) given "
        "to the engine options through the API (on the command line the flag itself refuses it).",
    ),
    Example(
        "HC0708",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--engine", "slurm", "--slurm-cluster", "local", "--slurm-config", "runner.yml", "-m", "1",
              "--dry-run", "--suite", "docs", "-o", "out"),
        fixed_args=("--engine", "slurm", "--slurm-cluster", "local", "--slurm-config", "runner.yaml", "-m", "1",
                    "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        exit_status=2,
        extra_files={"runner.yaml": "# Slurm parameters of submitit's SlurmExecutor\ntime: 60\n"},
        note="The runner config file is a YAML mapping of the same keys as --slurm-arg, which wins over it.",
    ),
    Example(
        "HC0800",
        "prices:\n  - {model: simple/model1, input_per_million: 0, output_per_million: 0\n",
        "prices:\n  - {model: simple/model1, input_per_million: 0, output_per_million: 0}\n",
        args=PRICED_RUN,
        command="run",
        needs_helm=True,
        path="prices.yaml",
        extra_files={"run_entries.conf": conf("simple1:model=simple/model1")},
        note="The prices file (`--prices prices.yaml`, or `prices` in [tool.helmc]) is read before anything "
        "is compiled or run, with YAML's own position of the error.",
    ),
    Example(
        "HC0801",
        "prices:\n  - {model: simple/model1, input_per_million: 0, output_per_mililon: 0}\n",
        "prices:\n  - {model: simple/model1, input_per_million: 0, output_per_million: 0}\n",
        args=PRICED_RUN,
        command="run",
        needs_helm=True,
        path="prices.yaml",
        extra_files={"run_entries.conf": conf("simple1:model=simple/model1")},
        note="Also for a price that is not a number of dollars (`-1`, `\"cheap\"`), a missing field, or "
        "a file that is no `prices:` list. Its JSON Schema: `helmc catalog schema prices`.",
    ),
    Example(
        "HC0802",
        "prices:\n  - {model: simple/model1, input_per_million: 0, output_per_million: 0}\n"
        "  - {model: simple/model1, input_per_million: 1, output_per_million: 2}\n",
        "prices:\n  - {model: simple/model1, input_per_million: 1, output_per_million: 2}\n",
        args=PRICED_RUN,
        command="run",
        needs_helm=True,
        path="prices.yaml",
        extra_files={"run_entries.conf": conf("simple1:model=simple/model1")},
    ),
    Example(
        "HC0810",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--max-requests", "5", "-m", "10", "--dry-run", "--suite", "docs", "-o", "out"),
        fixed_args=("--max-requests", "100", "-m", "10", "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        needs_helm=True,
        note="The estimate is HELM's own dry run of each run (remembered by the run's fingerprint), checked "
        "after HELM builds the runs and before any starts; helm-run then leaves the output folder as it found "
        "it. `--max-cost USD` is checked the same way against the priced estimate (docs/estimate.md).",
    ),
    Example(
        "HC0811",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--max-cost", "1", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        fixed_args=("--max-cost", "1", "--prices", "prices.yaml", "-m", "1", "--dry-run", "--suite", "docs",
                    "-o", "out"),
        command="run",
        needs_helm=True,
        extra_files={"prices.yaml": "# simple/model1 answers on this machine: it costs nothing\n"
                                    "prices:\n  - {model: simple/model1, input_per_million: 0, output_per_million: 0}\n"},
        note="A run without a price is never counted as $0: genai-prices' list has no price for "
        "self-hosted and local models, so they go in a prices file.",
    ),
    Example(
        "HC0709",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--requests-per-minute", "openai:500", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        fixed_args=("--requests-per-minute", "openai=500", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        exit_status=2,
        note="The same for --tokens-per-minute and --max-concurrent-requests (a whole number), and for a "
        "scope that names no model deployment or host organization (with a did-you-mean).",
    ),
    Example(
        "HC0709",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--max-concurrent-requests", "opneai=4", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        fixed_args=("--max-concurrent-requests", "openai=4", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        exit_status=2,
        variant="unknown-scope",
        note="A scope is a model deployment HELM knows (here or under --local-path) or its host organization.",
    ),
    Example(
        "HC0901",
        "",
        conf("simple1:model=simple/model1"),
        args=("missing.conf",),
        fixed_args=(),
        note="The example checks `missing.conf`, which does not exist.",
    ),
    Example(
        "HC0901",
        conf("simple1:model=simple/model1"),
        conf("simple1:model=simple/model1"),
        args=("--local-path", "prod_env.yaml"),
        fixed_args=("--local-path", "prod_env"),
        extra_files={"prod_env.yaml": "model_deployments: []\n"},
        variant="local-path-not-a-folder",
        note="`--local-path` names a file. HELM reads no config file from it without a word, then makes its cache "
        "folder in it (`prod_env.yaml/cache`) and every run fails there with a NotADirectoryError.",
    ),
]

# HELM's config YAML files (prod_env/). Each example checks one file of a prod_env folder; the
# other files it needs come from `extra_files`. What HELM itself does with each mistake is
# measured in tests/compiler/prodenv/test_check_helm.py, which loads the files with HELM's registry functions.
DEPLOYMENTS = "prod_env/model_deployments.yaml"
METADATA = "prod_env/model_metadata.yaml"
TOKENIZERS = "prod_env/tokenizer_configs.yaml"

ACME_METADATA = """models:
  - name: acme/acme-7b
    display_name: Acme 7B
    description: Acme's 7B model.
    creator_organization_name: Acme
    access: open
    num_parameters: 7000000000
    release_date: 2025-05-01
    tags: [TEXT_MODEL_TAG, FULL_FUNCTIONALITY_TEXT_MODEL_TAG]
"""


def deployment(body: str = "", client: str = "helm.clients.huggingface_client.HuggingFaceClient", args: str = "pretrained_model_name_or_path: /models/acme-7b", name: str = "huggingface/acme-7b", model: str = "acme/acme-7b", tokenizer: str = "huggingface/gpt2") -> str:
    """One deployment of acme/acme-7b; `body` adds lines inside it."""
    args_block = f"      args:\n        {args}\n" if args else ""
    return (
        f"  - name: {name}\n    model_name: {model}\n    tokenizer_name: {tokenizer}\n    max_sequence_length: 4096\n"
        + body
        + f"    client_spec:\n      class_name: \"{client}\"\n"
        + args_block
    )


def deployments(*items: str) -> str:
    return "model_deployments:\n" + "".join(items)


def metadata(replace: str = "", by: str = "") -> str:
    return ACME_METADATA.replace(replace, by) if replace else ACME_METADATA


WITH_METADATA = {METADATA: ACME_METADATA}
HELM_LOAD = "helm-run stops while it reads the file, before any run, with a traceback that names neither the file nor the line"
HELM_FIRST_REQUEST = "helm-run reads the file without a word and fails when the deployment is first used, after the runs before it"

EXAMPLES += [
    Example(
        "HC0601",
        deployments(deployment()).replace("    tokenizer_name:", "   tokenizer_name:"),
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note="HELM: `yaml.safe_load` raises ParserError, whose message names the file, line and column; helm-run "
        "stops there, before any run, with a traceback.",
    ),
    Example(
        "HC0602",
        deployments(deployment()).replace("max_sequence_length: 4096", "max_sequence_length: !!int 4k"),
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note=f"HELM: `yaml.safe_load` raises ValueError; {HELM_LOAD}.",
    ),
    Example(
        "HC0602",
        deployments(deployment(args="pretrained_model_name_or_path: !!python/object/apply:os.getcwd []")),
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        variant="python-tag",
        note="A Python tag (`!!python/object/apply:`, `!!python/object/new:`, `!!python/object:`, `!!python/name:`) "
        "on any value: `yaml.safe_load` constructs none of them and raises ConstructorError, so helm-run stops "
        "while it reads the file, before any run.",
    ),
    Example(
        "HC0603",
        deployments(deployment()).replace("tokenizer_name:", "tokenizr_name:"),
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note="HELM: cattrs drops the key, so the deployment has no tokenizer; HELM's own error comes much later "
        "(HELM issue 3709: `tokenizer_name is None`).",
    ),
    Example(
        "HC0604",
        deployments(deployment()).split("    client_spec:")[0],
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note=f"HELM: cattrs raises ClassValidationError; {HELM_LOAD}.",
    ),
    Example(
        "HC0605",
        metadata("num_parameters: 7000000000", "num_parameters: 7B"),
        metadata(),
        path=METADATA,
        note=f"HELM: dacite raises WrongTypeError (`wrong value type for field \"num_parameters\"`); {HELM_LOAD}.",
    ),
    Example(
        "HC0606",
        metadata("release_date: 2025-05-01", "release_date: 2025-02-30"),
        metadata(),
        path=METADATA,
        note=f"HELM: `yaml.safe_load` raises `ValueError: day is out of range for month`; {HELM_LOAD}. "
        "A quoted date (`\"2025-05-01\"`) is a string, on which dacite raises WrongTypeError.",
    ),
    Example(
        "HC0607",
        metadata("access: open", "access: opne"),
        metadata(),
        path=METADATA,
        note="HELM: accepted as written.",
    ),
    Example(
        "HC0608",
        metadata("[TEXT_MODEL_TAG, FULL", "[TEXT_MODEL, FULL"),
        metadata(),
        path=METADATA,
        note="HELM: accepted as written; `model=text` then leaves the model out.",
    ),
    Example(
        "HC0609",
        deployments(deployment(client="helm.clients.huggingface_client.HuggingfaceClient")),
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note=f"HELM: {HELM_FIRST_REQUEST} (`AttributeError: module 'helm.clients.huggingface_client' has no attribute 'HuggingfaceClient'`).",
    ),
    Example(
        "HC0610",
        deployments(deployment(client="helm.clients.simple_client.SimpleClient", args="model: acme-7b")),
        deployments(deployment(client="helm.clients.simple_client.SimpleClient", args="")),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note=f"HELM: {HELM_FIRST_REQUEST} (`TypeError: ... got an unexpected keyword argument 'model'`).",
    ),
    Example(
        "HC0611",
        deployments(deployment(args="pretrained_model_name_or_pat: /models/acme-7b")),
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note="HELM: accepted; HuggingFaceClient hands the key on to transformers' `from_pretrained`, and "
        "without `pretrained_model_name_or_path` it loads the weights named by the model's name instead.",
    ),
    Example(
        "HC0612",
        deployments(deployment(client="acme_clients.AcmeClient", args="temprature: 0.7")),
        deployments(deployment(client="acme_clients.AcmeClient", args="temperature: 0.7")),
        path=DEPLOYMENTS,
        args=("--plugins", "acme_clients.py"),
        extra_files={
            METADATA: ACME_METADATA,
            "acme_clients.py": "from helm.clients.client import CachingClient\n\n\nclass AcmeClient(CachingClient):\n"
            "    def __init__(self, cache_config, temperature: float = 0.0, **kwargs):\n"
            "        super().__init__(cache_config=cache_config)\n        self.temperature = temperature\n",
        },
        note="Checked with `--plugins acme_clients.py`, whose `AcmeClient.__init__(self, cache_config, "
        "temperature: float = 0.0, **kwargs)` never reads `kwargs`. HELM: accepted; the constructor takes the key "
        "into **kwargs and never reads it, so `temperature` keeps its default.",
    ),
    Example(
        "HC0613",
        deployments(deployment(tokenizer="qwen/qwen2.5-7b-instruc")),
        deployments(deployment(tokenizer="qwen/qwen2.5-7b-instruct")),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note=f"HELM: {HELM_FIRST_REQUEST} (`Could not find tokenizer config for qwen/qwen2.5-7b-instruc`).",
    ),
    Example(
        "HC0614",
        deployments(deployment(model="acme/acme-7")),
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note="HELM: logs `Could not find model metadata for model acme/acme-7` among its start-up lines and "
        "registers placeholder metadata.",
    ),
    Example(
        "HC0615",
        deployments(deployment(), deployment(client="helm.clients.simple_client.SimpleClient", args="")),
        deployments(deployment(), deployment(name="simple/acme-7b", client="helm.clients.simple_client.SimpleClient", args="")),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note="HELM: the later deployment replaces the first without a word.",
    ),
    Example(
        "HC0616",
        deployments(deployment(name="huggingface/gpt2", model="openai/gpt2")),
        deployments(deployment(name="huggingface/gpt2-local", model="openai/gpt2")),
        path=DEPLOYMENTS,
        note="HELM: the local deployment replaces the built-in one without a word; sometimes that is the intent.",
    ),
    Example(
        "HC0617",
        deployments(deployment(name="together/acme-7b", client="helm.clients.together_client.TogetherClient", args="together_model: acme/acme-7b")),
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        needs_helm=True,  # without crfm-helm there is no extra to miss
        note=f"Reported when crfm-helm is installed without the extra. HELM: {HELM_FIRST_REQUEST} "
        "(`OptionalDependencyNotInstalled`, or `ModuleNotFoundError` where a HELM module imports the package "
        "outside its guard, as openai_client.py does). The fix shown serves the model locally instead; "
        "`pip install \"crfm-helm[together]\"` fixes it too.",
    ),
    Example(
        "HC0618",
        deployments(deployment('    deprecated: "false"\n')),
        deployments(deployment("    deprecated: false\n")),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note="HELM: cattrs makes `bool(\"false\")`, which is true: the deployment is deprecated.",
    ),
    Example(
        "HC0619",
        deployments(deployment(client="helm.clients.stanfordhealthcare_http_model_client.StanfordHealthCareHTTPModelClient", args="")),
        deployments(deployment(client="helm.clients.stanfordhealthcare_http_model_client.StanfordHealthCareHTTPModelClient", args="deployment: acme-7b")),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note=f"HELM: {HELM_FIRST_REQUEST} (`TypeError: ... missing 1 required positional argument`).",
    ),
    Example(
        "HC0620",
        deployments(deployment("    max_sequence_length: 8192\n")),
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note="HELM: `yaml.safe_load` keeps the later value without a word.",
    ),
    Example(
        "HC0621",
        deployments(deployment(args="pretrained_model_name_or_path: " + "[" * 500 + "]" * 500)),
        deployments(deployment()),
        path=DEPLOYMENTS,
        extra_files=WITH_METADATA,
        note="HELM: helm-run's `yaml.safe_load` reads 491 nested levels and fails with a RecursionError past them (a "
        "traceback that names neither the file nor the line); helmc reads what HELM reads and stops where it stops.",
    ),
]

# A suite's journal as helm-run leaves it (helm-run's own files: `path` of the status examples).
JOURNAL = "out/helmc/docs/journal.jsonl"


def journal(*attempts: str) -> str:
    runs = ("mmlu:subject=anatomy,method=multiple_choice_joint,model=openai_gpt2",
            "mmlu:subject=virology,method=multiple_choice_joint,model=openai_gpt2")
    return '{"helmc_journal": 2}\n' + "".join(
        f'{{"run": {{"name": "{name}", "fingerprint": "f{i}", "state": "done", "attempts": {a}, "duration": 41.5}}}}\n'
        for i, (name, a) in enumerate(zip(runs, attempts))
    )


EXAMPLES += [
    Example(
        "HC0751",
        journal("1", '"1"'),
        journal("1", "1"),
        args=("--suite", "docs", "-o", "out"),
        command="status",
        path=JOURNAL,
        note="helm-run says the same as it opens the journal, before any run starts, redoes the runs "
        "whose lines were ignored, and rewrites the journal without them.",
    ),
    Example(
        "HC0752",
        journal("1", "1"),
        journal("1", "1"),
        args=("--suite", "doc", "-o", "out"),
        fixed_args=("--suite", "docs", "-o", "out"),
        command="status",
        path=JOURNAL,
        note="The failing example asks for suite `doc`, and helm-run wrote suite `docs`: the fix is "
        "`--suite docs`, the journal stays as it is.",
    ),
]

# Codes with no example input: each line says why.
NO_EXAMPLE: dict[str, str] = {
    "HC0501": "the RunSpecs HELM builds at run time differ from the plan: a helmc bug to report",
    "HC0902": "helmc itself failed; it prints this one line instead of a traceback and exits 2",
    "HC0701": "needs an environment without ray or submitit (tests/runtime/engines/test_engines.py hides ray to test it)",
    "HC0706": "needs a Slurm cluster (sbatch) or a running Ray cluster; tests/runtime/engines/test_engines.py uses a stand-in sbatch",
    "HC0710": "needs Slurm nodes that do not share the output folder: tests/runtime/engines/test_slurm_engine_helm.py "
    "plays one with fake_slurm (a job in a mount namespace of its own), and docs/runtime.md shows the output",
    "HC0750": "the outside world (a folder where the journal goes, no permission, a full disk): one line, "
    "exit 2; docs/runtime.md shows it and tests/runtime/test_journal.py makes each case",
}
