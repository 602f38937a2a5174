"""The catalog JSON to use and the crfm-helm it describes: the snapshot shipped for
crfm-helm 0.5.16, or one built from an installed crfm-helm of another version and cached.

Below compiler/catalog/catalog.py (which makes a Catalog of it) and compiler/prodenv/check.py (which checks
HELM's config files against it): both read it, neither imports the other for it.
"""

from __future__ import annotations

import json
import os
from typing import Any

SNAPSHOT_VERSION = "0.5.16"  # the crfm-helm that the shipped snapshots (data/*.json) describe
_SNAPSHOT = f"catalog-{SNAPSHOT_VERSION}.json"


class CatalogError(Exception):
    """A catalog or a user addition cannot be read; the message is for the user."""


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "helmc")


def read_json(path: str) -> dict[str, Any]:
    """A catalog file (the snapshot, a cache, $HELMC_CATALOG): OSError or ValueError."""
    from ..files.reading import read_input_bytes

    return json.loads(read_input_bytes(path))


def data_path(name: str) -> str:
    """A file shipped in compiler/catalog/data."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", name)


def snapshot_path() -> str:
    return data_path(_SNAPSHOT)


def installed_version() -> str | None:
    # The dist-info folder beside the `helm` package names the version; finding it costs far
    # less start-up than importlib.metadata (neither imports HELM).
    try:
        import importlib.util

        spec = importlib.util.find_spec("helm")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    site = os.path.dirname(list(spec.submodule_search_locations)[0])
    try:
        infos = [n for n in os.listdir(site) if n.startswith("crfm_helm-") and n.endswith(".dist-info")]
    except OSError:
        infos = []
    if len(infos) == 1:
        return infos[0][len("crfm_helm-") : -len(".dist-info")]
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("crfm-helm")
    except (PackageNotFoundError, ValueError):
        return None
    except Exception:
        return None


_RAW: dict[str, dict[str, Any]] = {}


def load_catalog_data() -> dict[str, Any]:
    """The catalog JSON to use: $HELMC_CATALOG, else the catalog of the installed crfm-helm
    (the shipped snapshot when versions match, else one built and cached on first use), else
    the shipped snapshot."""
    env = os.environ.get("HELMC_CATALOG")
    key = env or "default"
    if key in _RAW:
        return _RAW[key]
    if env:
        try:
            data = read_json(env)
        except (OSError, ValueError) as e:
            raise CatalogError(f"cannot read HELMC_CATALOG={env}: {getattr(e, 'strerror', None) or e}") from e
    else:
        data = read_json(snapshot_path())
        inst = installed_version()
        if inst and inst != data.get("helm_version"):
            data = _catalog_for_installed(inst) or data
    _RAW[key] = data
    return data


def _catalog_for_installed(version: str) -> dict[str, Any] | None:
    cache = os.path.join(cache_dir(), f"catalog-{version}.json")
    try:
        return read_json(cache)
    except (OSError, ValueError):
        pass
    from . import build as cb

    try:
        data = cb.build_catalog(cb.open_source(None))
    except (cb.CatalogBuildError, SyntaxError, OSError, KeyError):
        return None  # an unreadable newer HELM: fall back to the snapshot
    try:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        tmp = cache + f".{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            cb.dump_catalog(data, f)
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only home is fine: build again next time
    return data
