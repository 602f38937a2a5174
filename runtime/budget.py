"""helm-run's budget gate: --max-cost USD and --max-requests N, checked against the plan's
estimate (runtime/estimate.py) before any run starts. Over a cap: HC0810; under --max-cost,
runs without a price: HC0811. Bounds (runs whose dry run could not be made) count as their
bound; a run with no bound at all cannot be shown under the cap, so it is over.

While the suite runs, `Spend` adds up each finished run's actual spend (its run folder's
files) and stops further runs from starting once it reaches a cap."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from helmc.compiler.diagnostics import diag
from helmc.compiler.source import SourceFile, Span

from .estimate import RunEstimate

SHOWN = 5  # the most expensive runs named in HC0810, the unpriced runs in HC0811


@dataclass(frozen=True, slots=True)
class Budget:
    max_cost: float | None = None  # USD
    max_requests: int | None = None

    @property
    def given(self) -> bool:
        return self.max_cost is not None or self.max_requests is not None


def _flag_span(flag: str, value: str) -> Span:
    text = f"{flag} {value}"
    return SourceFile("<command line>", text).span(len(flag) + 1, len(text))


def _runs(names: Sequence[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def check_budget(estimates: Sequence[RunEstimate], budget: Budget, sink: Any) -> None:
    """HC0810/HC0811 in `sink` where the estimate does not fit the budget."""
    if budget.max_requests is not None:
        unknown = [e.name for e in estimates if e.requests is None]
        total = sum(e.requests - e.cached_requests for e in estimates if e.requests is not None)
        if unknown or total > budget.max_requests:
            top = sorted((e for e in estimates if e.requests is not None),
                         key=lambda e: e.requests - e.cached_requests, reverse=True)[:SHOWN]
            notes = [f"most requests: " + "; ".join(f"`{e.name}` {e.requests - e.cached_requests:,}" for e in top)] if top else []
            if unknown:
                notes.append(f"no bound on the requests of {_runs(unknown)} (its dry run failed; see `helmc plan --estimate`)")
            sink.add(diag(
                "HC0810",
                f"the plan sends {total:,} request(s) not in HELM's cache, over --max-requests {budget.max_requests:,}"
                if not unknown else f"the plan's requests cannot be bounded under --max-requests {budget.max_requests:,}",
                _flag_span("--max-requests", str(budget.max_requests)), "the cap",
                help="raise the cap, or lower --max-eval-instances, or run fewer entries (--priority, --models-to-run)",
                notes=notes,
            ))
    if budget.max_cost is not None:
        unpriced = [e.name for e in estimates if e.cost_usd is None]
        if unpriced:
            sink.add(diag(
                "HC0811",
                f"{len(unpriced)} run(s) have no price, so --max-cost cannot be checked: {_runs(unpriced)}",
                _flag_span("--max-cost", f"{budget.max_cost:g}"), "a cap in US dollars",
                help="price their models or deployments in a prices file (--prices FILE: "
                     "`prices: [{model: NAME, input_per_million: USD, output_per_million: USD}]`)",
                notes=["runs are priced from the prices file, then from genai-prices' list by the deployment's host"],
            ))
            return
        total = sum(e.cost_usd for e in estimates if e.cost_usd is not None)
        if total > budget.max_cost:
            top = sorted(estimates, key=lambda e: e.cost_usd or 0.0, reverse=True)[:SHOWN]
            bounded = any(e.source == "bound" for e in estimates)
            sink.add(diag(
                "HC0810",
                f"the plan's estimated cost is ${total:,.4f}, over --max-cost ${budget.max_cost:,.4f}",
                _flag_span("--max-cost", f"{budget.max_cost:g}"), "the cap",
                help="raise the cap, or lower --max-eval-instances, or run fewer entries (--priority, --models-to-run)",
                notes=["most expensive: " + "; ".join(f"`{e.name}` ${e.cost_usd:,.4f}" for e in top)]
                + (["some runs are bounds from their adapter settings, not HELM's dry run"] if bounded else [])
                + ["the cost counts every completion at its max_tokens: an upper bound"],
            ))


# ---------------------------------------------------------------------------- while the suite runs


def estimate_json(e: RunEstimate) -> dict[str, Any]:
    """What the journal keeps of a run's estimate, beside its actual spend."""
    return {"model": e.model_deployment or e.model, "requests": e.requests, "cached_requests": e.cached_requests,
            "prompt_tokens": e.prompt_tokens, "max_completion_tokens": e.max_completion_tokens,
            "cost_usd": e.cost_usd, "exact": e.exact}


@dataclass(frozen=True, slots=True)
class Actual:
    """What a finished run sent, from the files HELM wrote in its run folder.

    Tokens are HELM's per-request stats `num_prompt_tokens` and `num_completion_tokens`
    (EfficiencyMetric), summed from per_instance_stats.json: stats.json holds their mean per
    train trial, not their total. Which requests HELM's cache answered is each request
    state's `result.cached` in scenario_state.json; only the others are paid for."""

    requests: int
    cached_requests: int
    prompt_tokens: int
    completion_tokens: int
    paid_prompt_tokens: int
    paid_completion_tokens: int
    cost_usd: float | None  # None: the run has no price
    exact: bool = True  # False: an instance mixed cached and sent requests, counted as sent

    def to_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "cached_requests": self.cached_requests,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "cost_usd": self.cost_usd, "exact": self.exact}


_TOKENS = ("num_prompt_tokens", "num_completion_tokens")


def _instance_key(instance_id: Any, perturbation: Any, trial: Any) -> str:
    return json.dumps([instance_id, perturbation, trial], sort_keys=True)


def actual_of(run_path: str, price: tuple[float, float] | None) -> Actual:
    """The actual spend of the run whose folder is `run_path` (raises OSError, ValueError,
    KeyError, TypeError on files that are not HELM's)."""
    with open(os.path.join(run_path, "scenario_state.json"), encoding="utf-8") as f:
        states = json.load(f)["request_states"]
    with open(os.path.join(run_path, "per_instance_stats.json"), encoding="utf-8") as f:
        per = json.load(f)
    # request states per instance (and perturbation, trial): the unit of HELM's per-instance stats
    sent: dict[str, list[bool]] = {}
    cached = 0
    for st in states:
        inst, result = st["instance"], st.get("result")
        hit = result is not None and bool(result.get("cached"))
        cached += hit
        sent.setdefault(_instance_key(inst.get("id"), inst.get("perturbation"), st.get("train_trial_index")),
                        []).append(result is not None and not hit)
    tokens = dict.fromkeys(_TOKENS, 0)
    paid = dict.fromkeys(_TOKENS, 0)
    exact = True
    for p in per:
        got = {s["name"]["name"]: int(round(s.get("sum", 0))) for s in p.get("stats", [])
               if s["name"]["name"] in tokens}
        flags = sent.get(_instance_key(p.get("instance_id"), p.get("perturbation"), p.get("train_trial_index")), [])
        for name, n in got.items():
            tokens[name] += n
            if any(flags):  # sent (paid), at least in part: a mixed instance is counted whole
                paid[name] += n
        if any(flags) and not all(flags):
            exact = False
    cost = None
    if price is not None:
        cost = round((paid["num_prompt_tokens"] * price[0] + paid["num_completion_tokens"] * price[1]) / 1_000_000, 6)
    return Actual(len(states), cached, tokens["num_prompt_tokens"], tokens["num_completion_tokens"],
                  paid["num_prompt_tokens"], paid["num_completion_tokens"], cost, exact)


class Spend:
    """This helm-run's actual spend against its budget: each finished run adds what it sent;
    once the spend reaches --max-cost (or the requests sent reach --max-requests) no further
    run starts. Called from the engine loop's thread only."""

    def __init__(self, budget: Budget, prices: Mapping[str, tuple[float, float] | None],
                 estimates: Mapping[str, dict[str, Any]]) -> None:
        self.budget = budget
        self.prices = prices  # run name -> (input, output) USD per million tokens, or None
        self.estimates = estimates  # run name -> estimate_json
        self.cost = 0.0
        self.requests = 0  # sent, not answered by HELM's cache
        self.stopped: str | None = None  # why no further run starts

    def add(self, name: str, run_path: str) -> Actual | None:
        """The finished run's actual spend, counted; None where its files cannot be read (the
        run is then counted at its estimate, so a cap is never passed unseen)."""
        try:
            actual = actual_of(run_path, self.prices.get(name))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            actual = None
        if actual is not None:
            self.cost += actual.cost_usd or 0.0
            self.requests += actual.requests - actual.cached_requests
        else:
            e = self.estimates.get(name) or {}
            self.cost += e.get("cost_usd") or 0.0
            self.requests += (e.get("requests") or 0) - (e.get("cached_requests") or 0)
        self._check()
        return actual

    def _check(self) -> None:
        b = self.budget
        if self.stopped is not None:
            return
        # reaching a cap takes spending something: under --max-requests 0, cached runs go on
        if b.max_cost is not None and 0 < self.cost and self.cost >= b.max_cost:
            self.stopped = f"the actual spend ${self.cost:,.6f} reached --max-cost ${b.max_cost:,.6f}"
        elif b.max_requests is not None and 0 < self.requests and self.requests >= b.max_requests:
            self.stopped = (f"the {self.requests:,} request(s) sent (not in HELM's cache) reached "
                            f"--max-requests {b.max_requests:,}")

    def may_start(self) -> bool:
        return self.stopped is None
