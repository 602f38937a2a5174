"""Runner classes for `helm-run --runner-class-name` in tests (importable by name: the tests put
this folder on PYTHONPATH)."""

from __future__ import annotations

from helm.benchmark.runner import Runner


class SilentRunner(Runner):
    """Returns from every run without writing anything, as a Runner that writes elsewhere does."""

    def run_one(self, run_spec) -> None:  # noqa: ANN001 - HELM's signature
        return None
