"""helm-run's budget gate: --max-cost USD and --max-requests N, checked against the plan's
estimate (runtime/estimate.py) before any run starts. Over a cap: HC0810; under --max-cost,
runs without a price: HC0811. Bounds (runs whose dry run could not be made) count as their
bound; a run with no bound at all cannot be shown under the cap, so it is over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

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
            bounded = any(not e.exact for e in estimates)
            sink.add(diag(
                "HC0810",
                f"the plan's estimated cost is ${total:,.4f}, over --max-cost ${budget.max_cost:,.4f}",
                _flag_span("--max-cost", f"{budget.max_cost:g}"), "the cap",
                help="raise the cap, or lower --max-eval-instances, or run fewer entries (--priority, --models-to-run)",
                notes=["most expensive: " + "; ".join(f"`{e.name}` ${e.cost_usd:,.4f}" for e in top)]
                + (["some runs are bounds from their adapter settings, not HELM's dry run"] if bounded else [])
                + ["the cost counts every completion at its max_tokens: an upper bound"],
            ))
