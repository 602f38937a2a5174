"""The `helm` entry-point group: an installed distribution that declares one adds its run spec
functions, as HELM's load_entry_point_plugins does."""

from __future__ import annotations

import sys

from helmc.compiler.catalog import catalog as cat

PLUGIN = '''
from helm.benchmark.run_spec import run_spec_function


@run_spec_function("my_entry_point_scenario")
def get_my_spec(subject: str, shots: int = 5):
    pass
'''


def test_entry_point_plugin_functions_are_found(tmp_path, monkeypatch):
    (tmp_path / "my_helm_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "my_helm_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-helm-plugin\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[helm]\nmine = my_helm_plugin\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cat._may_declare_helm_entry_points()
    catalog = cat.load_catalog(cat.UserAdditions(local_path=None))
    fn = catalog.functions["my_entry_point_scenario"]
    assert [p.name for p in fn.params] == ["subject", "shots"]
    assert "my_helm_plugin" not in sys.modules  # read statically, never imported


def test_no_helm_entry_points_means_no_scan(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert not cat._may_declare_helm_entry_points()
