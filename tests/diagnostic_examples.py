"""One failing example and its fix for every diagnostic code.

This file is the single source of the examples: tests check that each `bad` input triggers
its code and each `fixed` input does not, snapshot the output, and docs/diagnostics.md is
generated from it (`python tests/gen_docs.py`).

An example is a conf file (`conf`), or helm-check arguments (`args`, run against the conf
written to `run_entries.conf`), as its code needs.
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
    command: str = "check"  # "check" or "plan"
    note: str = ""  # what the docs say about the case, beyond the rule's summary
    needs_helm: bool = False  # the example runs HELM itself (crfm-helm installed)
    extra_files: dict[str, str] = field(default_factory=dict)


def conf(*descriptions: str, extra: str = "") -> str:
    lines = [f'  {{description: "{d}", priority: 1{extra}}}' for d in descriptions]
    return "entries: [\n" + "\n".join(lines) + "\n]\n"


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
        conf("narrative_qa:model=openai/gpt2,output_format_instructions=narative_qa"),
        conf("narrative_qa:model=openai/gpt2,output_format_instructions=narrative_qa"),
        note="HELM raises for generation runs (narrative_qa) and silently uses its generic "
        "instruction for multiple-choice ones; it has no branch for the value.",
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
        "HC0401",
        conf("mmlu:subject=anatomy,model=openai/gpt2", "mmlu:subject=anatomy,model=openai/gpt2"),
        conf("mmlu:subject=anatomy,model=openai/gpt2"),
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
        conf("simple1:model=text"),
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
        "(`helmc plan --build` knows every name).",
    ),
    Example(
        "HC0503",
        conf("simple1:model=simple/model1,model_deployment=broken/model1"),
        conf("simple1:model=simple/model1"),
        args=("-m", "1", "--local-path", ".", "--suite", "docs", "-o", "out"),
        command="run",
        needs_helm=True,
        extra_files={
            "model_deployments.yaml": "model_deployments:\n  - name: broken/model1\n    model_name: simple/model1\n"
            "    tokenizer_name: simple/tokenizer1\n    max_sequence_length: 2048\n    client_spec:\n"
            '      class_name: "helm.clients.simple_client.NoSuchClient"\n'
        },
        note="Every failed run points at the entry that planned it (at the argument or model that HELM's "
        "message names), with HELM's exception and the run's log, in every --format.",
    ),
    Example(
        "HC0502",
        conf("simple1:model=text"),
        conf("simple1:model=simple/model1"),
        args=("--models-to-run", "openai/gpt2", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        fixed_args=("--models-to-run", "simple/model1", "-m", "1", "--dry-run", "--suite", "docs", "-o", "out"),
        command="run",
        needs_helm=True,
        note="helm-run has HELM build every run before any starts: here `simple1` pins its "
        "deployment to `simple/model1`, which cannot serve the model that --models-to-run put in.",
    ),
    Example(
        "HC0901",
        "",
        conf("simple1:model=simple/model1"),
        args=("missing.conf",),
        fixed_args=(),
        note="The example checks `missing.conf`, which does not exist.",
    ),
]

# Codes with no example input: each line says why.
NO_EXAMPLE: dict[str, str] = {
    "HC0501": "the RunSpecs HELM builds at run time differ from the plan: a helmc bug to report",
    "HC0902": "helmc itself failed; it prints this one line instead of a traceback and exits 2",
    "HC0750": "the outside world (a folder where the journal goes, no permission, a full disk): one line, "
    "exit 2; docs/runtime.md shows it and tests/test_journal.py makes each case",
    "HC0751": "a damaged journal (garbage, wrong types, a torn line): a warning, the runs are redone; "
    "tests/test_journal.py generates such journals",
    "HC0752": "`helmc status` on a suite with no journal: one line, exit 1; docs/cli.md shows it",
}
