"""One way to read a file: every file helmc reads (or appends to) goes through
compiler/files/reading.py, so a FIFO, a character device, a symbolic link loop, a folder or an
oversized file in its place ends in a clean message naming the path, with the right exit code,
at once: no hang (every command runs with a timeout), no traceback, no "internal error".

READ_PATHS is the one table of those paths, each as the command that reads it. The YAML depth
bound (compiler/syntax/config_yaml.py, HC0621) and the tags yaml.safe_load refuses (HC0602) are tested
below it, in helm-check, helm-run's compile and the language server.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HELM_INSTALLED
from helpers import plant_special
from helmc.compiler.syntax.config_yaml import MAX_YAML_DEPTH, load_yaml, read_yaml
from helmc.compiler.diagnostics import DiagnosticSink
from helmc.compiler.files.reading import MAX_INPUT_BYTES
from helmc.compiler.source import SourceFile
from helmc.runtime.journal import _MAX_JOURNAL

HELM_CHECK = [sys.executable, "-c", "import sys; from helmc.cli import helm_check_main; sys.exit(helm_check_main())"]
HELM_RUN = [sys.executable, "-c", "import sys; from helmc.cli import helm_run_main; sys.exit(helm_run_main())"]
HELMC = [sys.executable, "-m", "helmc"]
TIMEOUT = 90  # seconds; every command here ends in a few when nothing blocks

CONF = 'entries: [{description: "simple1:model=simple/model1", priority: 1}]\n'

# What the message says for each kind of file that is not a readable regular file.
KINDS = {
    "fifo": "named pipe (FIFO)",
    "socket": "a socket, not a regular file",
    "chardev": "character device",
    "loop": "Too many levels of symbolic links",
    "folder": "is a folder",
    "oversized": "too large",
}
APPEND_KINDS = ("fifo", "socket", "chardev", "loop", "folder")  # appended to, never read: any size is fine


def plant(path: Path, kind: str, limit: int) -> None:
    """Put a `kind` in place of the file at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "oversized":
        with open(path, "wb") as f:
            f.truncate(limit + 1)  # sparse: no disk, no time
    else:
        plant_special(path, kind)


@dataclass(frozen=True)
class ReadPath:
    name: str
    file: str  # where the hostile file goes, relative to the test's folder
    argv: tuple[str, ...]  # the command that reads it; `{file}` is replaced by the file's path
    exit: int  # the exit code when it is refused
    kinds: tuple[str, ...] = tuple(KINDS)
    limit: int = MAX_INPUT_BYTES
    env: dict[str, str] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # "helm", "submitit"
    says: tuple[str, ...] = ()  # what the output must also say


RUN = ("-r", "simple1:model=simple/model1", "-m", "1", "--suite", "s", "-o", "out", "--local-path", "pe")
CHECK = (*HELM_CHECK, "ok.conf", "--local-path", "pe")

READ_PATHS = [
    # conf files (a folder given as a conf path means the *.conf files in it: see tests/runtime/test_suite_faults.py)
    ReadPath("helm-check conf file", "x.conf", (*HELM_CHECK, "{file}"), 1, kinds=("fifo", "socket", "chardev", "loop", "oversized")),
    ReadPath("helm-check --conf-paths", "x.conf", (*HELM_CHECK, "--conf-paths", "{file}"), 1,
             kinds=("fifo", "socket", "chardev", "loop", "oversized")),
    ReadPath("helmc parse", "x.conf", (*HELMC, "parse", "{file}", "--format", "json"), 1,
             kinds=("fifo", "socket", "chardev", "loop", "oversized")),
    ReadPath("helmc plan -c", "x.conf", (*HELMC, "plan", "-c", "{file}"), 1, kinds=("fifo", "socket", "chardev", "loop", "oversized")),
    ReadPath("helmc fmt", "x.conf", (*HELMC, "fmt", "{file}"), 1, kinds=("fifo", "socket", "chardev", "loop", "oversized")),
    ReadPath("helm-run -c", "x.conf", (*HELM_RUN, "-c", "{file}", *RUN), 1, kinds=("fifo", "socket", "chardev", "loop", "oversized")),
    # --plugins, HELM's config YAML files (--local-path, or named on the command line), settings
    ReadPath("helm-check --plugins", "plugin.py", (*HELM_CHECK, "ok.conf", "--plugins", "./{file}"), 1),
    *[ReadPath(f"--local-path {name}", f"pe/{name}", CHECK, 1) for name in
      ("model_deployments.yaml", "model_metadata.yaml", "tokenizer_configs.yaml", "runner_config.yaml")],
    ReadPath("helm-check model_deployments.yaml", "cfg/model_deployments.yaml", (*HELM_CHECK, "{file}"), 1,
             kinds=("fifo", "socket", "chardev", "loop", "oversized")),
    ReadPath("helm-run --local-path", "pe/model_deployments.yaml", (*HELM_RUN, *RUN), 1),
    ReadPath("helm-check credentials.conf", "pe/credentials.conf", CHECK, 1),  # HELM's workers read it
    ReadPath("helm-run credentials.conf", "pe/credentials.conf", (*HELM_RUN, *RUN), 1),
    ReadPath("pyproject.toml", "pyproject.toml", (*HELM_CHECK, "ok.conf"), 2),
    ReadPath("HELMC_CATALOG", "catalog.json", (*HELM_CHECK, "ok.conf"), 1, env={"HELMC_CATALOG": "{file}"}),
    # the suite's journal, read by `helmc status` and helm-run
    ReadPath("helmc status journal", "out/helmc/s/journal.jsonl", (*HELMC, "status", "--suite", "s", "-o", "out"), 2,
             limit=_MAX_JOURNAL),
    ReadPath("helm-run journal", "out/helmc/s/journal.jsonl", (*HELM_RUN, *RUN), 2, limit=_MAX_JOURNAL, needs=("helm",)),
    # files helm-run appends to
    ReadPath("helm-run build log", "out/helmc/s/logs/_build.log", (*HELM_RUN, *RUN), 2, kinds=APPEND_KINDS,
             needs=("helm",)),
    ReadPath("helm-run suite lock", "out/helmc/s/lock", (*HELM_RUN, *RUN), 2, kinds=APPEND_KINDS, needs=("helm",)),
    ReadPath("helm-run run log", "out/helmc/s/logs/simple1:model=simple_model1.log",
             (*HELM_RUN, *RUN, "--retries", "2", "--retry-backoff", "0"), 1,
             kinds=APPEND_KINDS, needs=("helm",),
             says=("failed before HELM started", "0 started more than once")),  # the same on a retry: none
    # files that helm-run's flags name, and HELM reads
    ReadPath("helm-run --log-config", "logging.yaml", (*HELM_RUN, *RUN, "--log-config", "{file}"), 2),
    ReadPath("helm-run --api-key-path", "key.txt",
             (*HELM_RUN, *RUN, "--server-url", "http://localhost:1", "--api-key-path", "{file}"), 2),
    ReadPath("helm-run --slurm-config", "slurm.yaml",
             (*HELM_RUN, *RUN, "--engine", "slurm", "--slurm-cluster", "local", "--slurm-config", "{file}"), 2,
             needs=("submitit",)),
]


def _cases():
    for row in READ_PATHS:
        marks = []
        if "helm" in row.needs:
            marks += [pytest.mark.helm, pytest.mark.skipif(not HELM_INSTALLED, reason="crfm-helm is not installed")]
        if "submitit" in row.needs:
            marks.append(pytest.mark.skipif(not _installed("submitit"), reason="submitit is not installed"))
        for kind in row.kinds:
            yield pytest.param(row, kind, id=f"{row.name}-{kind}", marks=marks)


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT,
                              env={**os.environ, "NO_COLOR": "1", "HELMC_DEBUG": "", **(env or {})}, **kw)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung for {TIMEOUT} s: {argv}")


def _clean(text: str) -> None:
    for bad in ("Traceback", "internal error", "HC0902", "bug in helmc", "failed internally"):
        assert bad not in text, text[-3000:]


def _setup(tmp_path: Path) -> None:
    (tmp_path / "ok.conf").write_text(CONF)
    (tmp_path / "pe").mkdir(exist_ok=True)


def test_the_table_covers_every_kind_of_each_path():
    names = [r.name for r in READ_PATHS]
    assert len(names) == len(set(names))
    for row in READ_PATHS:
        assert set(row.kinds) <= set(KINDS) and row.kinds, row.name


@pytest.mark.parametrize("row,kind", list(_cases()))
def test_every_read_path_refuses_what_is_not_a_regular_file_at_once(tmp_path: Path, row: ReadPath, kind: str,
                                                                    snapshot) -> None:
    _setup(tmp_path)
    target = tmp_path / row.file
    plant(target, kind, row.limit)
    argv = [a.replace("{file}", row.file) for a in row.argv]
    env = {k: v.replace("{file}", row.file) for k, v in row.env.items()}
    r = _run(argv, tmp_path, env)
    out = r.stdout + r.stderr
    assert r.returncode == row.exit, (r.returncode, out[-3000:])
    assert KINDS[kind] in out, out[-3000:]
    assert os.path.basename(row.file) in out, out[-3000:]  # the message names the path
    assert all(s in out for s in row.says), out[-3000:]
    assert "HELM raised" not in out, out[-3000:]  # helmc's own refusal, never said to be HELM's
    _clean(out)
    if kind == "fifo":
        assert target.exists() and not target.is_file()  # nothing replaced the user's FIFO
        if not row.needs:  # the text as the user sees it (HELM's runs print timings: not snapshotted)
            tmp = str(tmp_path.resolve())
            assert {"stdout": r.stdout.replace(tmp, "<tmp>"), "stderr": r.stderr.replace(tmp, "<tmp>")} == snapshot


@settings(max_examples=80, deadline=None)
@given(kind=st.sampled_from(["regular", "link", *KINDS]), data=st.binary(max_size=3000), limit=st.integers(0, 2048))
def test_the_reader_takes_regular_files_up_to_the_limit_and_refuses_the_rest(kind: str, data: bytes, limit: int) -> None:
    """compiler/files/reading.py itself: the bytes of a regular file (or a link to one) of at most
    `limit` bytes, exactly; an OSError naming the path for anything else; and the append helper
    appends to a regular file of any size and refuses the rest, never blocking."""
    import errno
    import tempfile

    from helmc.compiler.files.reading import open_for_append, read_input_bytes

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f"
        if kind in ("regular", "link"):
            (Path(d) / "real").write_bytes(data)
            path.symlink_to("real") if kind == "link" else (Path(d) / "real").rename(path)
        else:
            plant(path, kind, limit)
        readable = kind in ("regular", "link") and len(data) <= limit
        try:
            got = read_input_bytes(path, limit)
        except OSError as e:
            assert not readable and e.filename == str(path), (kind, e)
            if kind in ("regular", "link", "oversized"):
                assert e.errno == errno.EFBIG and "too large" in e.strerror
        else:
            assert readable and got == data
        regular = kind in ("regular", "link", "oversized")
        try:
            fd = open_for_append(path)
        except OSError as e:
            assert not regular and e.filename == str(path), (kind, e)
        else:
            assert regular
            try:
                os.write(fd, b"+")
            finally:
                os.close(fd)
            assert path.stat().st_size == (len(data) if kind != "oversized" else limit + 1) + 1


def test_fmt_stdin_from_a_device_is_bounded(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        r = _run([*HELMC, "fmt", "--stdin"], tmp_path, stdin=zero)
    assert r.returncode == 1 and "too large" in r.stderr and "<stdin>" in r.stderr, r.stderr
    _clean(r.stdout + r.stderr)


LOG_CONFIGS = {  # read before anything is compiled
    "bad.yaml": ("version: 1\nhandlers: [\n", "not valid YAML at line 3"),
    "list.yaml": ("- version: 1\n", "not a mapping"),
    "deep.yaml": ("version: " + "[" * (MAX_YAML_DEPTH + 9) + "]" * (MAX_YAML_DEPTH + 9) + "\n", f"nested more than {MAX_YAML_DEPTH} deep"),
    "tag.yaml": ("version: !!python/object/apply:os.getcwd []\n", "could not determine a constructor"),
}
LOG_CONFIGS_HELM = {  # refused by logging.config.dictConfig, where HELM sets up its logging
    "ok.conf": (None, "doesn't specify a version"),  # the conf file given by mistake
    "handler.yaml": ("version: 1\nhandlers:\n  h: {class: nowhere.Handler}\nroot: {handlers: [h]}\n",
                     "No module named 'nowhere'"),
}


@pytest.mark.parametrize("name", [
    *LOG_CONFIGS,
    *[pytest.param(n, marks=[pytest.mark.helm, pytest.mark.skipif(not HELM_INSTALLED, reason="needs crfm-helm")])
      for n in LOG_CONFIGS_HELM],
])
def test_log_config_mistakes_are_the_users_with_the_path(tmp_path: Path, name: str) -> None:
    """Bad YAML, not a mapping, nesting past the bound, a Python tag, the conf file given by
    mistake, a bad handler class: each a one-line error naming --log-config and the file, exit 2;
    nothing is run."""
    _setup(tmp_path)
    text, words = {**LOG_CONFIGS, **LOG_CONFIGS_HELM}[name]
    if text is not None:
        (tmp_path / name).write_text(text)
    r = _run([*HELM_RUN, *RUN, "--log-config", name], tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 2, (name, out[-2000:])
    assert f"--log-config `{name}`" in out and words in out, (name, out[-2000:])
    _clean(out)
    assert not (tmp_path / "out" / "runs").exists()


def test_a_missing_log_config_is_said_and_skipped_as_helm_does(tmp_path: Path) -> None:
    from helmc.runtime.helm_setup import HelmSettings, check_flag_files

    said: list[str] = []
    assert check_flag_files(HelmSettings(log_config=str(tmp_path / "none.yaml")), said.append) is None
    assert len(said) == 1 and "does not exist" in said[0] and "none.yaml" in said[0]


# ------------------------------------------------------------------------------ the language server


class _Lsp:
    """The server over raw stdio (test_faults.RawLsp), keeping its stderr for the log."""

    def __init__(self, cwd: Path) -> None:
        from lsp_raw import RawLsp

        self.raw = RawLsp(cwd)
        self.said: list[str] = []  # window/logMessage: what the editor shows in its output panel

    def request(self, id_: int, method: str, params: object, timeout: float = 30) -> dict:
        import time

        self.raw.send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for m in self.raw.messages(end - time.monotonic()):
                if m.get("method") == "window/logMessage":
                    self.said.append(m["params"]["message"])
                elif m.get("id") == id_ and "method" not in m:
                    return m
        pytest.fail(f"no answer to {method} in {timeout} s: the server is deaf or blocked")

    def log(self) -> str:
        """Everything the server wrote to stderr (its log) while it answered; it is alive until
        then. (Killed, not shut down: its log while serving is what this file is about.)"""
        assert self.raw.p.poll() is None, "the server died"
        self.raw.close()
        return self.raw.p.stderr.read().decode("utf-8", "replace")


LSP_REQUESTS = {
    "textDocument/hover": lambda uri: {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}},
    "textDocument/completion": lambda uri: {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}},
    "textDocument/codeAction": lambda uri: {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}},
        "context": {"diagnostics": [], "only": ["quickfix", "source.fixAll"]}},
    "textDocument/formatting": lambda uri: {"textDocument": {"uri": uri},
                                            "options": {"tabSize": 2, "insertSpaces": True}},
}
EMPTY = {"textDocument/hover": (None,), "textDocument/completion": (None,), "textDocument/codeAction": (None, []),
         "textDocument/formatting": (None,)}


def test_lsp_answers_every_request_on_every_unreadable_unopened_file_at_once(tmp_path: Path) -> None:
    pytest.importorskip("pygls")
    lsp = _Lsp(tmp_path)
    try:
        n = 10
        for kind in KINDS:
            path = tmp_path / f"{kind}.conf"
            plant(path, kind, MAX_INPUT_BYTES)
            for method, params in LSP_REQUESTS.items():
                n += 1
                answer = lsp.request(n, method, params(path.as_uri()))  # fails when no answer comes in 30 s
                assert "error" not in answer, (kind, method, answer)
                result = answer["result"]
                if method == "textDocument/completion" and isinstance(result, dict):
                    result = result["items"] or None
                assert result in EMPTY[method], (kind, method, answer)
        # and a readable file still gets its answer
        ok = tmp_path / "ok.conf"
        ok.write_text(CONF)
        answer = lsp.request(n + 1, "textDocument/formatting", LSP_REQUESTS["textDocument/formatting"](ok.as_uri()))
        assert answer["result"], answer
        log = lsp.log()
    finally:
        lsp.raw.close()
    assert "Traceback" not in log, log[-3000:]  # the server's own log: stderr
    said = "\n".join(lsp.said)
    assert "Traceback" not in said and "internal error" not in said, said
    for kind, words in KINDS.items():  # one line for each, naming the file and why
        assert any(f"{kind}.conf" in line and words in line for line in lsp.said), (kind, said)


# ------------------------------------------------------------------------------ YAML: depth and tags


def _nested(depth: int, style: str) -> str:
    """A model_deployments.yaml whose collections nest `depth` deep in all (the root counts)."""
    head = "model_deployments:\n"
    inner = depth - 2  # the root mapping and the list under it
    if style == "flow-seq":
        return head + "- " + "[" * inner + "]" * inner + "\n"
    if style == "flow-map":
        return head + "- " + "{a: " * inner + "1" + "}" * inner + "\n"
    if style == "block":  # `k:` mappings, one indent deeper each, inside the list item
        return head + "- k:\n" + "".join(" " * (2 + 2 * i) + "k:\n" for i in range(1, inner)) + " " * (2 + 2 * inner) + "1\n"
    raise AssertionError(style)


def _json_document(stdout: str, stderr: str) -> list[dict]:
    """The JSON array a command printed (helm-run prints it on stderr, before its last line)."""
    for text in (stdout, stderr):
        if text.lstrip().startswith("["):
            return json.JSONDecoder().raw_decode(text.lstrip())[0]
    raise AssertionError(f"no JSON in {stdout[-500:]!r} / {stderr[-500:]!r}")


def _depth(node: yaml.Node | None) -> int:
    """How deep collections nest (the root counts), without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        if isinstance(n, yaml.MappingNode):
            stack.extend((x, d + 1) for kv in n.value for x in kv)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend((x, d + 1) for x in n.value)
        else:
            continue
        deepest = max(deepest, d)
    return deepest


@contextlib.contextmanager
def _stack_room() -> Iterator[None]:
    """Room for PyYAML's recursive composer below this test's own frames: HELM calls it from a
    shallow stack, pytest and hypothesis call from a deep one."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 2000)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.one_of(st.integers(3, 40), st.integers(200, MAX_YAML_DEPTH), st.integers(MAX_YAML_DEPTH - 3, MAX_YAML_DEPTH + 3),
                       st.integers(MAX_YAML_DEPTH, 3000)),
       style=st.sampled_from(["flow-seq", "flow-map", "block"]))
def test_yaml_depth_is_bounded_in_one_place(depth: int, style: str) -> None:
    """HC0621 exactly when the text nests deeper than the bound, at a position in the file; never a
    RecursionError, however deep; below the bound, the same value as yaml.safe_load."""
    text = _nested(depth, style)
    sink = DiagnosticSink()
    doc = read_yaml(SourceFile("pe/model_deployments.yaml", text), sink)
    codes = [d.code for d in sink.items]
    if depth > MAX_YAML_DEPTH:
        assert codes == ["HC0621"] and doc.root is None
        d = sink.items[0]
        assert 0 < d.span.start <= len(text)
        with pytest.raises(yaml.YAMLError):
            load_yaml(text)
    else:
        assert codes == [] and doc.root is not None
        with _stack_room():
            composed, expected = yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
        assert _depth(composed) == depth
        assert load_yaml(text) == expected == doc.root.python()


@pytest.mark.parametrize("style", ["flow-seq", "flow-map", "block"])
def test_deep_yaml_in_helm_check_and_helm_runs_compile(tmp_path: Path, style: str) -> None:
    _setup(tmp_path)
    (tmp_path / "pe" / "model_deployments.yaml").write_text(_nested(600, style))
    for argv in ([*HELM_CHECK, "ok.conf", "--local-path", "pe", "--format", "json"],
                 [*HELM_CHECK, "pe/model_deployments.yaml", "--format", "json"],
                 [*HELM_RUN, *RUN, "--format", "json"]):
        r = _run(argv, tmp_path)
        _clean(r.stdout + r.stderr)
        assert r.returncode == 1, (argv, r.stdout[-2000:], r.stderr[-2000:])
        diags = _json_document(r.stdout, r.stderr)
        found = [d for d in diags if d["code"] == "HC0621"]
        assert len(found) == 1 and found[0]["path"] == "pe/model_deployments.yaml" and found[0]["line"] >= 2, diags
    assert not (tmp_path / "out" / "runs").exists()


def test_deep_yaml_in_the_language_server(tmp_path: Path) -> None:
    pytest.importorskip("pygls")
    lsp = _Lsp(tmp_path)
    try:
        uri = (tmp_path / "pe" / "model_deployments.yaml").as_uri()
        lsp.raw.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                      "params": {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                  "text": _nested(600, "flow-seq")}}})
        m = lsp.raw.until(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        codes = [d["code"] for d in m["params"]["diagnostics"]]
        assert "HC0621" in codes and "HC0902" not in codes, codes
        log = lsp.log()
    finally:
        lsp.raw.close()
    assert "Traceback" not in log and "RecursionError" not in log, log[-3000:]


# The tags yaml.safe_load constructs nothing for, on a scalar, a sequence and a mapping.
TAGS = ["!!python/object/apply:os.getcwd []", "!!python/object/new:os.getcwd []", "!!python/object:os.stat_result {}",
        "!!python/object/apply:os.system {args: [ls]}", "!!python/name:os.getcwd ''", "!!python/tuple [1, 2]",
        "!custom 3", "!custom [1]", "!custom {a: 1}"]


@pytest.mark.parametrize("where", ["top", "field", "args", "unknown-key"])
@pytest.mark.parametrize("tagged", TAGS)
def test_a_tag_safe_load_refuses_is_an_error_where_helm_fails(tagged: str, where: str) -> None:
    """helm-check fails exactly where HELM's yaml.safe_load does: one HC0602 error on the line and
    column of PyYAML's own mark (HELM's reader, here the oracle)."""
    from helmc.compiler.prodenv.check import check_document

    body = {
        "top": f"model_deployments: {tagged}\n",
        "field": f"model_deployments:\n- name: a/b\n  model_name: {tagged}\n",
        "args": ("model_deployments:\n- name: a/b\n  model_name: a/b\n  tokenizer_name: simple/tokenizer1\n"
                 f"  client_spec:\n    class_name: helm.clients.simple_client.SimpleClient\n    args:\n      x: {tagged}\n"),
        "unknown-key": f"model_deployments: []\nextra: {tagged}\n",
    }[where]
    with pytest.raises(yaml.constructor.ConstructorError) as e:
        yaml.safe_load(body)
    mark = e.value.problem_mark or e.value.context_mark
    sink = DiagnosticSink()
    check_document("prod_env/model_deployments.yaml", body, sink, [], names=False)
    errors = [d for d in sink.items if d.code == "HC0602"]
    assert len(errors) == 1, [(d.code, d.message) for d in sink.items]
    src = errors[0].span.source
    assert src.line_col(errors[0].span.start) == (mark.line + 1, mark.column + 1)
    assert tagged.split()[0] in errors[0].message


@pytest.mark.parametrize("tagged", ["!!python/object/apply:os.getcwd []", "!!python/object/new:os.getcwd []",
                                    "!!python/object:os.stat_result {}"])
def test_helm_check_and_helm_run_refuse_a_python_tag_at_the_same_place(tmp_path: Path, tagged: str) -> None:
    """HELM's yaml.safe_load refuses the file and helm-run would exit 2 with a traceback: helm-check
    and helm-run's compile both fail there first, with the same positioned HC0602, nothing run."""
    _setup(tmp_path)
    (tmp_path / "pe" / "model_deployments.yaml").write_text(
        "model_deployments:\n- name: simple/model1\n  model_name: simple/model1\n  tokenizer_name: simple/tokenizer1\n"
        f"  client_spec:\n    class_name: helm.clients.simple_client.SimpleClient\n    args: {tagged}\n")
    found = []
    for argv in ([*HELM_CHECK, "ok.conf", "--local-path", "pe", "--format", "json"], [*HELM_RUN, *RUN, "--format", "json"]):
        r = _run(argv, tmp_path)
        _clean(r.stdout + r.stderr)
        assert r.returncode == 1, (argv, r.stdout[-2000:], r.stderr[-2000:])
        found.append([(d["path"], d["line"], d["column"]) for d in _json_document(r.stdout, r.stderr)
                      if d["code"] == "HC0602"])
    assert found[0] == found[1] == [("pe/model_deployments.yaml", 7, 11)], found
    assert not (tmp_path / "out" / "runs").exists()
