"""What helm-run may replace in an output folder: only run folders (its own, or HELM's layout of an
earlier run, whose files it keeps). Anything else at a run folder's path is the user's: that run is
not started, HC0504 says why at its entry, and the thing stays as it was, run after run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from helmc.runtime import run_folders
from helmc.runtime.helm_setup import HelmSettings

SUITE = "s"


def _regular(p: Path, tmp: Path) -> str:
    p.write_text("my notes\n")
    return "a file"


def _empty(p: Path, tmp: Path) -> str:
    p.write_bytes(b"")
    return "a file"


def _link_to_file(p: Path, tmp: Path) -> str:
    (tmp / "target.txt").write_text("elsewhere\n")
    p.symlink_to(tmp / "target.txt")
    return "a symbolic link"


def _link_to_folder(p: Path, tmp: Path) -> str:
    (tmp / "target_dir").mkdir()
    (tmp / "target_dir" / "keep.txt").write_text("kept\n")
    p.symlink_to(tmp / "target_dir", target_is_directory=True)
    return "a symbolic link"


def _dangling_link(p: Path, tmp: Path) -> str:
    p.symlink_to(tmp / "nowhere")
    return "a symbolic link"


def _fifo(p: Path, tmp: Path) -> str:
    os.mkfifo(p)
    return "something that is not a folder"


OCCUPANTS: dict[str, Callable[[Path, Path], str]] = {
    "file": _regular,
    "empty-file": _empty,
    "link-to-file": _link_to_file,
    "link-to-folder": _link_to_folder,
    "dangling-link": _dangling_link,
    "fifo": _fifo,
}


def _snapshot(p: Path) -> tuple:
    """What the user has at `p`, to compare before and after (a FIFO is never opened)."""
    st = os.lstat(p)
    if os.path.islink(p):
        return ("link", os.readlink(p))
    if p.is_fifo():
        return ("fifo", st.st_ino)
    return ("file", st.st_ino, p.read_bytes())


def _settings(tmp: Path) -> HelmSettings:
    return HelmSettings(output_path=str(tmp / "out"), suite=SUITE)


@pytest.mark.parametrize("kind", sorted(OCCUPANTS))
def test_foreign_occupant_names_everything_but_a_folder(tmp_path, kind):
    s = _settings(tmp_path)
    final = Path(run_folders.run_folder(s, "r"))
    final.parent.mkdir(parents=True)
    assert run_folders.foreign_occupant(s, "r") is None  # nothing there
    expected = OCCUPANTS[kind](final, tmp_path)
    occupant = run_folders.foreign_occupant(s, "r")
    assert occupant is not None and occupant.kind == expected and occupant.path == str(final)
    assert str(final) in str(occupant)


def test_a_folder_is_no_foreign_occupant(tmp_path):
    s = _settings(tmp_path)
    final = Path(run_folders.run_folder(s, "r"))
    final.mkdir(parents=True)
    assert run_folders.foreign_occupant(s, "r") is None


@pytest.mark.parametrize("kind", sorted(OCCUPANTS))
def test_commit_never_replaces_what_appeared_during_the_run(tmp_path, kind):
    # The occupant appears after the run started (the preflight saw nothing): the attempt is
    # dropped, the commit raises, and what the user put there stays.
    s = _settings(tmp_path)
    staged = Path(run_folders.staging_folder(s, "r"))
    staged.mkdir(parents=True)
    (staged / "stats.json").write_text("[]")
    final = Path(run_folders.run_folder(s, "r"))
    OCCUPANTS[kind](final, tmp_path)
    before = _snapshot(final)
    with pytest.raises(FileExistsError) as e:
        run_folders.commit_run_folder(s, "r")
    assert e.value.filename == str(final)
    assert _snapshot(final) == before
    assert not staged.exists()
    run_folders.discard_staging(s)  # what the next helm-run does first
    assert _snapshot(final) == before
    if kind == "link-to-folder":
        assert (tmp_path / "target_dir" / "keep.txt").read_text() == "kept\n"


def test_commit_swaps_a_folder_and_keeps_the_files_it_did_not_write(tmp_path):
    s = _settings(tmp_path)
    final = Path(run_folders.run_folder(s, "r"))
    final.mkdir(parents=True)
    (final / "stats.json").write_text("old")
    (final / "notes.txt").write_text("mine")
    staged = Path(run_folders.staging_folder(s, "r"))
    staged.mkdir(parents=True)
    (staged / "stats.json").write_text("new")
    run_folders.commit_run_folder(s, "r")
    assert (final / "stats.json").read_text() == "new"
    assert (final / "notes.txt").read_text() == "mine"


# ------------------------------------------------------------------ the real helm-run

ENTRIES = {
    # run entry -> HELM's run name (helmc plan --build)
    "simple1:model=simple/model1": "simple1:model=simple_model1",
    "simple1:model=simple/model1,stop=hash": "simple1:model=simple_model1,stop=hash",
    "simple1:model=simple/model1,max_train_instances=one": "simple1:model=simple_model1,max_train_instances=1",
    "simple1:model=simple/model1,num_outputs=2": "simple1:model=simple_model1,num_outputs=2",
    "simple1:model=simple/model1,instructions=none": "simple1:model=simple_model1,instructions=none",
}
HELM_RUN = [sys.executable, "-c", "import sys; from helmc.cli import helm_run_main; sys.exit(helm_run_main())"]


def _helm_run(tmp: Path, *flags: str) -> subprocess.CompletedProcess:
    cmd = HELM_RUN + ["--run-entries", *ENTRIES, "-o", "out", "--local-path", "pe", "--suite", SUITE,
                      "--format", "json", *flags]
    return subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "NO_COLOR": "1"})


def _hc0504(stderr: str) -> list[dict]:
    """helm-run prints its diagnostics (one JSON array with --format json) on standard error."""
    diags, _ = json.JSONDecoder().raw_decode(stderr[stderr.index("["):])
    return [d for d in diags if d["code"] == "HC0504"]


@pytest.mark.helm
def test_a_rerun_with_a_changed_flag_keeps_every_users_thing_at_a_run_path(tmp_path):
    pytest.importorskip("helm.benchmark.run", reason="crfm-helm is not installed")
    assert _helm_run(tmp_path, "-m", "1").returncode == 0
    runs = tmp_path / "out" / "runs" / SUITE
    kinds = ["file", "link-to-folder", "fifo", "dangling-link"]
    names = list(ENTRIES.values())
    occupied = dict(zip(names, kinds))  # the last run's folder stays HELM's, with a note of the user's
    expected: dict[str, tuple] = {}
    for name, kind in occupied.items():
        shutil.rmtree(runs / name)
        (tmp_path / kind).mkdir()
        OCCUPANTS[kind](runs / name, tmp_path / kind)
        expected[name] = _snapshot(runs / name)
    kept_folder = runs / names[-1]
    (kept_folder / "notes.txt").write_text("mine")

    for max_eval in ("2", "3"):  # a changed flag, twice: the second run once deleted the moved file
        r = _helm_run(tmp_path, "-m", max_eval)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "Traceback" not in r.stdout + r.stderr
        found = _hc0504(r.stderr)
        assert sorted(d["message"].split("run `")[1].split("`")[0] for d in found) == sorted(occupied)
        for d in found:
            assert d["path"] == "<run-entries>" and d["line"] >= 1
        for name, snap in expected.items():
            assert _snapshot(runs / name) == snap, name
        assert (kept_folder / "notes.txt").read_text() == "mine"
        assert (kept_folder / "stats.json").is_file()
    staging = tmp_path / "out" / "helmc" / SUITE / "staging"
    leftovers = [p for p in staging.rglob("*")] if staging.exists() else []
    assert not [p for p in leftovers if p.is_file() or p.is_symlink()], leftovers
