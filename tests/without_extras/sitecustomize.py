"""A Python without the optional packages named in $HELMC_TEST_WITHOUT (comma-separated): their
imports fail as a missing package's do, and importlib.util.find_spec finds none of them.
tests/test_without_extras.py runs the suite with this directory on PYTHONPATH."""

import importlib.util
import os
import sys

_WITHOUT = frozenset(filter(None, os.environ.get("HELMC_TEST_WITHOUT", "").split(",")))


class _Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _WITHOUT:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _Missing())
_find_spec = importlib.util.find_spec


def _find_spec_without(name, package=None):
    if name.split(".")[0] in _WITHOUT:
        return None
    return _find_spec(name, package)


importlib.util.find_spec = _find_spec_without
