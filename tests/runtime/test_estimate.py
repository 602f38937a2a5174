"""The estimate's parts that need no HELM run: the prices file (positions, every shape), pricing
(unpriced is never $0), the bound from adapter settings, and the budget gate's verdict."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helmc.compiler.diagnostics import DiagnosticSink
from helmc.compiler.catalog.prices import FIELDS, json_schema, read_prices
from helmc.compiler.source import SourceFile
from helmc.runtime.runspecs import BuiltRun
from helmc.runtime.budget import Budget, check_budget
from helmc.runtime.estimate import (RunEstimate, bound, cache_key, genai_price, genai_prices_meanwhile, price_runs,
                                    remembered_genai_price, totals_json)

from helpers import SPECIAL_KINDS, plant_special

names = st.from_regex(r"[a-z][a-z0-9_-]{0,8}/[a-z][a-z0-9._-]{0,12}", fullmatch=True)
prices = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)


def _read(text: str) -> tuple[dict, list]:
    sink = DiagnosticSink()
    return read_prices(SourceFile("p.yaml", text), sink), sink.items


def _line(model: str, i: float, o: float) -> str:
    return f"  - {{model: {model}, input_per_million: {i:.6f}, output_per_million: {o:.6f}}}\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, prices, prices), min_size=1, max_size=6, unique_by=lambda t: t[0]))
def test_a_good_prices_file_reads_every_price_without_a_diagnostic(rows):
    text = "prices:\n" + "".join(_line(*r) for r in rows)
    table, diags = _read(text)
    assert diags == []
    assert {m: (p.input_per_million, p.output_per_million) for m, p in table.items()} == {
        m: (float(f"{i:.6f}"), float(f"{o:.6f}")) for m, i, o in rows}
    for n, (m, _, _) in enumerate(rows):  # each price says where it was given
        assert table[m].source == f"p.yaml:{n + 2}:13"


BAD_VALUES = ["-1", '"cheap"', "true", ".nan", ".inf", "[1]", "{a: 1}", "null"]


@pytest.mark.parametrize("field", FIELDS[1:])
@pytest.mark.parametrize("value", BAD_VALUES)
def test_a_bad_price_is_hc0801_at_the_value_and_the_other_entries_are_kept(field, value):
    good = _line("a/b", 1.0, 2.0)
    entry = {"model": "x/y", "input_per_million": "1", "output_per_million": "2", field: value}
    bad = "  - {" + ", ".join(f"{k}: {v}" for k, v in entry.items()) + "}\n"
    text = "prices:\n" + good + bad
    table, diags = _read(text)
    assert [d.code for d in diags] == ["HC0801"]
    src = SourceFile("p.yaml", text)
    line, col = src.line_col(diags[0].span.start)
    assert line == 3 and text.splitlines()[2][col - 1:].startswith(value)
    assert list(table) == ["a/b"]


@pytest.mark.parametrize("field", FIELDS)
def test_a_misspelled_field_is_one_diagnostic_at_the_key_with_did_you_mean(field):
    typo = field[:-1] + field[-1] * 2  # one letter doubled
    entry = {"model": "x/y", "input_per_million": 1, "output_per_million": 2}
    text = "prices:\n  - {" + ", ".join(f"{typo if k == field else k}: {v}" for k, v in entry.items()) + "}\n"
    table, diags = _read(text)
    assert [d.code for d in diags] == ["HC0801"]
    assert diags[0].help == f"did you mean `{field}`?" and table == {}


@pytest.mark.parametrize("text", ["", "[]\n", "prices: 3\n", "price: []\n", "prices:\n  - 3\n", "prices: [\n"])
def test_a_prices_file_of_another_shape_is_a_diagnostic_not_a_crash(text):
    table, diags = _read(text)
    assert table == {} and diags and {d.code for d in diags} <= {"HC0800", "HC0801"}


@pytest.mark.parametrize("written, hint", [("1e-6", "1.0e-6"), ("2E+3", "2.0e+3"), ("5e3", "5.0e+3")])
def test_a_number_yaml_reads_as_text_says_how_to_write_it(written, hint):
    table, diags = _read(f"prices:\n  - {{model: a/b, input_per_million: {written}, output_per_million: 1.0}}\n")
    (d,) = diags
    assert d.code == "HC0801" and hint in d.help and table == {}
    fixed, diags = _read(f"prices:\n  - {{model: a/b, input_per_million: {hint}, output_per_million: 1.0}}\n")
    assert diags == [] and fixed["a/b"].input_per_million == float(written)


def test_a_model_priced_twice_is_hc0802_and_the_later_price_wins():
    table, diags = _read("prices:\n" + _line("a/b", 1.0, 2.0) + _line("a/b", 3.0, 4.0))
    assert [d.code for d in diags] == ["HC0802"] and table["a/b"].input_per_million == 3.0


def test_the_json_schema_accepts_the_format_and_rejects_what_hc0801_rejects():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    jsonschema.validate({"prices": [{"model": "a/b", "input_per_million": 1, "output_per_million": 0}]}, schema)
    for bad in ({"prices": [{"model": "a/b", "input_per_million": -1, "output_per_million": 0}]},
                {"prices": [{"model": "a/b", "input_per_million": 1}]},
                {"prices": [{"model": "a/b", "input_per_million": 1, "output_per_million": 0, "x": 1}]},
                {"price": []}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


# ---------------------------------------------------------------------------- pricing


def _est(name="r", model="m/x", deployment="d/x", requests=10, prompt=1000, completion=500, cached=0,
         exact=True, **kw) -> RunEstimate:
    return RunEstimate(name, model, deployment, requests, prompt, completion, cached, True, exact,
                       "dry run", None, prompt, completion, **kw)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10**7), st.integers(0, 10**7), prices, prices, st.booleans())
def test_cost_is_tokens_times_price_per_million_by_deployment_then_model(prompt, completion, inp, outp, by_model):
    from helmc.compiler.catalog.prices import Price

    p = Price("m/x" if by_model else "d/x", inp, outp, SourceFile("p.yaml", "x").span(0, 1))
    (e,) = price_runs([_est(prompt=prompt, completion=completion)], {p.model: p})
    assert e.cost_usd == pytest.approx((prompt * inp + completion * outp) / 1e6, abs=1e-6)
    assert e.price_source == "prices file p.yaml:1:1"


def test_a_run_without_a_price_is_unpriced_never_zero():
    (e,) = price_runs([_est(model="nolab/nomodel", deployment="nolab/nomodel")], {})
    assert e.cost_usd is None and e.price_source is None
    t = totals_json([e, _est(cost_usd=1.5)])
    assert t["unpriced_runs"] == 1 and t["cost_usd"] == 1.5
    assert totals_json([e])["cost_usd"] is None


@pytest.mark.parametrize("deployment, priced", [
    ("openai/gpt-4o-mini-2024-07-18", True),  # genai-prices matches the dated name
    ("anthropic/claude-3-5-sonnet-20240620", True),
    ("huggingface/gpt2", False),  # a local model: never priced as an API
    ("simple/model1", False),  # no such provider
    ("openai/no-such-model", False),
])
def test_genai_prices_match_a_deployment_only_at_its_own_host(deployment, priced):
    pytest.importorskip("genai_prices")
    got = genai_price(deployment)
    assert (got is not None) == priced
    if got is not None:
        inp, outp, source = got
        assert inp > 0 and outp > 0 and source.startswith("genai-prices ") and deployment.split("/")[0] in source


GENAI_NAMES = ["openai/gpt-4o-mini-2024-07-18", "anthropic/claude-3-5-sonnet-20240620", "huggingface/gpt2",
               "simple/model1", "openai/no-such-model"]


@pytest.mark.parametrize("remembered", [0, 2, len(GENAI_NAMES)])
def test_the_prices_looked_up_meanwhile_are_genai_prices_own(tmp_path, monkeypatch, remembered):
    """The first estimate's child process remembers, for every name not remembered yet, what
    genai_price says in this process; afterwards each lookup is answered from the memo."""
    pytest.importorskip("genai_prices")
    monkeypatch.setenv("HELMC_CACHE_DIR", str(tmp_path))
    for name in GENAI_NAMES[:remembered]:
        remembered_genai_price(name)
    with genai_prices_meanwhile(GENAI_NAMES + [GENAI_NAMES[0]]):
        pass
    memo = json.loads(next((tmp_path / "estimates").glob("genai-prices-*.json")).read_text())
    assert sorted(memo) == sorted(GENAI_NAMES)
    for name in GENAI_NAMES:
        direct = genai_price(name)
        assert memo[name] == (list(direct) if direct is not None else None)
        assert remembered_genai_price(name) == direct


# ---------------------------------------------------------------------------- cache key, bound


def test_simple_clients_cache_key_is_helms_raw_request_with_random():
    req = {"model": "simple/model1", "prompt": "a b", "num_completions": 2, "max_tokens": 5}
    assert json.loads(cache_key("helm.clients.simple_client.SimpleClient", req)) == {
        "engine": "model1", "prompt": "a b", "num_completions": 2}
    assert json.loads(cache_key("helm.clients.simple_client.SimpleClient", {**req, "random": "7"}))["random"] == "7"
    assert cache_key("helm.clients.openai_client.OpenAIClient", req) is None  # not computed: not guessed


def _built(adapter: dict) -> BuiltRun:
    return BuiltRun("r", None, "m/x", "d/x", "fp", b"", adapter=adapter)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 1000), st.integers(0, 8), st.integers(1, 5), st.integers(1, 4), st.integers(1, 512),
       st.integers(600, 8192), st.sampled_from(["generation", "multiple_choice_joint"]))
def test_the_bound_counts_one_request_per_instance_and_trial(n, train, trials, outputs, max_tokens, window, method):
    a = {"max_eval_instances": n, "max_train_instances": train, "num_train_trials": trials,
         "num_outputs": outputs, "max_tokens": max_tokens, "method": method}
    e = bound(_built(a), window, "no data")
    requests = n * (1 if train == 0 else trials)
    assert e.requests == requests and not e.exact and e.source == "bound"
    assert e.max_completion_tokens == requests * outputs * max_tokens
    assert e.prompt_tokens == requests * max(0, window - max_tokens)
    assert "bound" in e.note and "no data" in e.note


@pytest.mark.parametrize("adapter, window", [
    ({"method": "generation"}, 2048),  # max_eval_instances left open
    ({"max_eval_instances": 5, "method": "multiple_choice_separate_original"}, 2048),  # choices unknown
    ({"max_eval_instances": 5, "method": "generation"}, None),  # no context window
])
def test_what_cannot_be_bounded_is_unknown_never_zero(adapter, window):
    e = bound(_built(adapter), window, "no data")
    assert None in (e.requests, e.prompt_tokens) and "no bound" in e.note
    assert totals_json([e])["requests"] is None or totals_json([e])["prompt_tokens"] is None


# ---------------------------------------------------------------------------- the budget


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 1000), st.floats(0, 100)), min_size=1, max_size=8),
       st.integers(0, 5000), st.floats(0, 500))
def test_the_gate_refuses_exactly_when_a_total_is_over_its_cap(rows, max_requests, max_cost):
    ests = [_est(name=f"r{i}", requests=r + c, cached=c, cost_usd=cost) for i, (r, c, cost) in enumerate(rows)]
    sink = DiagnosticSink()
    check_budget(ests, Budget(max_cost, max_requests), sink)
    over_requests = sum(r for r, _, _ in rows) > max_requests
    over_cost = sum(cost for _, _, cost in rows) > max_cost
    assert [d.code for d in sink.items] == ["HC0810"] * (over_requests + over_cost)
    for d in sink.items:
        assert d.span.source.path == "<command line>"


def test_under_max_cost_unpriced_runs_are_an_error_naming_them():
    ests = [_est(name="priced", cost_usd=0.0)] + [_est(name=f"free{i}") for i in range(7)]
    sink = DiagnosticSink()
    check_budget(ests, Budget(max_cost=10.0), sink)
    (d,) = sink.items
    assert d.code == "HC0811" and "7 run(s)" in d.message and "`free0`" in d.message and "2 more" in d.message
    sink = DiagnosticSink()
    check_budget(ests, Budget(max_requests=10**6), sink)  # --max-requests alone needs no price
    assert sink.items == []


def test_most_expensive_runs_are_named_first():
    ests = [_est(name=f"r{i}", cost_usd=float(i)) for i in range(10)]
    sink = DiagnosticSink()
    check_budget(ests, Budget(max_cost=1.0), sink)
    (d,) = sink.items
    assert "$45.0000" in d.message and "$1.0000" in d.message
    assert d.notes[0].startswith("most expensive: `r9` $9.0000; `r8` $8.0000")


# ---------------------------------------------------------------------------- text output


def test_the_text_table_says_unpriced_bounds_and_unchecked_caches_never_a_bare_zero():
    from helmc.commands.plan import _estimate_cells

    priced = _est(cost_usd=0.1234)
    assert _estimate_cells(priced) == ["10", "1,000", "500", "0", "0.1234"]
    assert _estimate_cells(_est())[-1] == "unpriced"
    unchecked = RunEstimate("r", "m/x", "d/x", 10, 1000, 500, 0, False, False, "dry run", "why", 1000, 500)
    assert _estimate_cells(unchecked)[3] == "not checked"
    b = bound(_built({"max_eval_instances": 4, "method": "generation", "max_tokens": 10}), 100, "no data")
    cells = _estimate_cells(b)
    assert cells[:3] == ["<=4", "<=360", "<=40"] and cells[-1] == "unpriced"
    unknown = bound(_built({"method": "generation"}), 100, "no data")
    assert _estimate_cells(unknown)[:2] == ["unknown", "unknown"]
    assert _estimate_cells(None)[0] == "not built"


def test_prices_without_estimate_is_bad_usage(tmp_path):
    from helpers import run_cli

    code, _, err = run_cli(["plan", "--run-entries", "simple1:model=simple/model1", "--prices", "p.yaml"], tmp_path)
    assert code == 2 and "--estimate" in err


# ------------------------------------------------------------------------------ damaged memo files

RUN_MEMO = {"requests": 2, "prompt_tokens": 30, "max_completion_tokens": 10, "shard": "openai",
            "per_request": [["k1", 10, 5], ["k2", 20, 5]]}
PLAN_MEMO = {"requests": None, "runs": [None, {"name": "r", "adapter": {"method": "generation"}, "memo": "ab12"}]}


def _gz(obj) -> bytes:
    import gzip
    import json as _json

    return gzip.compress(_json.dumps(obj).encode())


def _damage(path, kind: str) -> None:
    import gzip

    if kind in SPECIAL_KINDS:
        plant_special(path, kind)
    elif kind == "random":
        path.write_bytes(os.urandom(200))
    elif kind == "truncated":
        path.write_bytes(_gz(RUN_MEMO)[:30])
    elif kind == "bomb":  # decompresses past the bound (lowered for the test)
        path.write_bytes(gzip.compress(b'{"requests": [' + b"1," * 600_000 + b"1]}"))
    elif kind == "not-json":
        path.write_bytes(gzip.compress(b"{nope"))
    elif kind == "deep-json":
        path.write_bytes(gzip.compress(b"[" * 100_000 + b"]" * 100_000))
    else:
        path.write_bytes(_gz(kind_shapes()[kind]))


def kind_shapes() -> dict:
    return {
        "list": [],
        "requests-null": {**RUN_MEMO, "requests": None},
        "requests-bool": {**RUN_MEMO, "requests": True},
        "tokens-missing": {"requests": 5},
        "tokens-negative": {**RUN_MEMO, "prompt_tokens": -1},
        "per-request-not-list": {**RUN_MEMO, "per_request": 5},
        "per-request-short": {**RUN_MEMO, "per_request": [["k1", 10]]},
        "per-request-types": {**RUN_MEMO, "per_request": [[1, "10", 5]]},
    }


DAMAGE = ["fifo", "folder", "chardev", "loop", "random", "truncated", "bomb", "not-json", "deep-json", *kind_shapes()]


@pytest.mark.parametrize("kind", DAMAGE)
@pytest.mark.parametrize("plan", [False, True], ids=["run-memo", "plan-memo"])
def test_a_damaged_memo_is_no_memo_at_once(tmp_path, monkeypatch, kind, plan):
    """Whatever stands in a memo file's place: None (the dry run again), at once, never an
    exception (HC0902 before, for a memo of the wrong shape) nor a wait on a FIFO."""
    import threading

    from helmc.runtime import estimate

    monkeypatch.setattr(estimate, "MAX_MEMO_BYTES", 1 << 20)
    path = tmp_path / "m.json.gz"
    _damage(path, kind)
    got: list = []
    t = threading.Thread(target=lambda: got.append(estimate._load_memo(str(path), plan=plan)), daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive(), "blocked"
    assert got == [None]


@pytest.mark.parametrize("memo,plan", [(RUN_MEMO, False), (PLAN_MEMO, True)], ids=["run-memo", "plan-memo"])
def test_a_memo_reads_back_as_written(tmp_path, memo, plan):
    from helmc.runtime import estimate

    path = str(tmp_path / "m.json.gz")
    assert estimate._store_memo(path, memo)
    assert estimate._load_memo(path, plan=plan) == memo
    assert estimate._load_memo(path, plan=not plan) is None  # each kind only where it belongs


@pytest.mark.parametrize("kind", ["fifo", "folder", "chardev", "loop", "dangling", "regular"])
def test_helms_request_cache_is_read_only_when_it_is_a_regular_file(tmp_path, kind):
    """Cached requests are counted from HELM's SQLite cache; SQLite waits for ever on a FIFO
    there (the estimate hung): anything but a regular file is said, at once, and not counted."""
    import sqlite3
    import threading

    from helmc.compiler.catalog.catalog import UserAdditions
    from helmc.runtime.estimate import _cached
    from helmc.runtime.helm_setup import HelmSettings

    cache = tmp_path / "pe" / "cache"
    cache.mkdir(parents=True)
    path = cache / "openai.sqlite"
    if kind == "regular":
        con = sqlite3.connect(path)
        con.execute('CREATE TABLE "unnamed" (key TEXT PRIMARY KEY, value BLOB)')
        con.execute('INSERT INTO "unnamed" VALUES (?, ?)', ("k1", b"{}"))
        con.commit()
        con.close()
    else:
        _damage(path, kind)
    settings = HelmSettings(catalog=UserAdditions(local_path=str(tmp_path / "pe")))
    got: list = []
    t = threading.Thread(target=lambda: got.append(_cached({"shard": "openai", "per_request": [["k1", 1, 1], ["k2", 1, 1]]},
                                                            settings)), daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive(), "blocked opening HELM's cache"
    held, why = got[0]
    if kind == "regular":
        assert held == [True, False] and why is None
    else:
        assert held is None and str(path) in why and "cached requests not counted" in why, why
