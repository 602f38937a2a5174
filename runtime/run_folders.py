"""Run folders: HELM's layout of a suite's runs (OUTPUT/runs/SUITE/RUN_NAME), what stands
in a run folder's place that helm-run may not replace, and each attempt written aside and
swapped in whole."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
from dataclasses import dataclass

from .helm_setup import HelmSettings
from .journal import fsync_dir, fsync_tree, journal_dir

def suite_name_problem(suite: str) -> str | None:
    """Why `suite` cannot name a suite, or None. It becomes one folder name under runs/ and
    helmc/, so a path (`../x`, `/abs`, `a/b`) or a dot name would put run folders, the journal
    and the lock outside the output folder, or helmc's files among the run folders."""
    if suite == "":
        return "the suite name is empty"
    if suite in (".", ".."):
        return f"`{suite}` names a folder, not a suite"
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    if any(c in suite for c in seps) or os.path.isabs(suite):
        return f"`{suite}` contains a path separator; a suite name is one folder name"
    if "\0" in suite:
        return "the suite name contains a NUL character"
    return None


def run_folder(settings: HelmSettings, run_name: str) -> str:
    """HELM's layout: OUTPUT/runs/SUITE/RUN_NAME (Runner._get_run_path)."""
    return os.path.join(settings.output_path, "runs", settings.suite, run_name)


HELM_OUTPUT_FILES = ("run_spec.json", "scenario.json", "scenario_state.json", "stats.json", "per_instance_stats.json")


def writes_outputs(settings: HelmSettings) -> bool:
    """Whether HELM's Runner writes the run folder's files with these flags."""
    return unwritten_flag(settings) is None


def unwritten_flag(settings: HelmSettings) -> str | None:
    """The flag under which HELM's Runner.run_one returns before writing a run's files."""
    if settings.cache_instances_only:
        return "--cache-instances-only"
    if settings.skip_instances:
        return "--skip-instances"
    return None


def outputs_present(settings: HelmSettings, run_name: str) -> bool:
    folder = run_folder(settings, run_name)
    return all(os.path.isfile(os.path.join(folder, f)) for f in HELM_OUTPUT_FILES)


@dataclass(frozen=True, slots=True)
class Occupant:
    """Something helm-run did not write, at the path of a run's folder."""

    kind: str  # "a file", "a symbolic link", ...
    path: str

    def __str__(self) -> str:
        return f"{self.kind} that helm-run did not write stands where this run's folder goes: `{self.path}`"


def foreign_occupant(settings: HelmSettings, run_name: str) -> Occupant | None:
    """What stands at the run's folder path that helm-run may not replace, or None.

    helm-run replaces only folders: the ones it swapped in itself, and HELM's layout of an
    earlier run, whose files it keeps (_carry_over). Anything else there (a file, a symbolic
    link, a FIFO) is the user's: HELM's own helm-run fails that run with FileExistsError, and
    so does helm-run here, without starting it and without touching what is there."""
    final = run_folder(settings, run_name)
    try:
        st = os.lstat(final)
    except (FileNotFoundError, NotADirectoryError):
        return None  # nothing there (a file higher up fails the run as the disk says)
    if stat.S_ISDIR(st.st_mode):
        return None
    if stat.S_ISLNK(st.st_mode):
        return Occupant("a symbolic link", final)
    if stat.S_ISREG(st.st_mode):
        return Occupant("a file", final)
    return Occupant("something that is not a folder", final)


# ------------------------------------------------------------------ run folders, swapped in whole
#
# HELM writes a run's files straight into OUTPUT/runs/SUITE/RUN_NAME, so a run interrupted or
# failing half-way leaves a torn folder where a complete one may have stood. helmc has HELM
# write each attempt into a staging folder on the same file system instead, and swaps it in
# with one rename once the run has finished and its files are on disk (as git and SQLite
# write aside, then rename). Whatever moment a kill lands, a run folder is the old complete
# one or the new complete one.


def staging_root(settings: HelmSettings) -> str:
    """Where attempts are written: helmc's own folder of the suite when it lies on the same
    file system as the run folders (a rename cannot cross file systems), else a hidden
    folder among them."""
    runs = os.path.join(settings.output_path, "runs", settings.suite)
    ours = os.path.join(journal_dir(settings.output_path, settings.suite), "staging")
    os.makedirs(runs, exist_ok=True)
    os.makedirs(ours, exist_ok=True)
    if os.stat(runs).st_dev == os.stat(ours).st_dev:
        return ours
    return os.path.join(runs, ".helmc-staging")


def staging_folder(settings: HelmSettings, run_name: str) -> str:
    return os.path.join(staging_root(settings), "new", run_name)


def _retired_folder(settings: HelmSettings, run_name: str) -> str:
    return os.path.join(staging_root(settings), "old", run_name)


def discard_staging(settings: HelmSettings) -> None:
    """Remove what interrupted or failed attempts left in staging (never a run folder)."""
    shutil.rmtree(os.path.join(staging_root(settings), "new"), ignore_errors=True)


def recover_run_folder(settings: HelmSettings, run_name: str) -> None:
    """Undo half a swap (only possible where the kernel cannot exchange two folders): a
    retired complete folder whose place is empty goes back."""
    old = _retired_folder(settings, run_name)
    if not os.path.isdir(old):
        return
    final = run_folder(settings, run_name)
    if not os.path.lexists(final):
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.rename(old, final)
        fsync_dir(os.path.dirname(final))
    else:
        shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: str, b: str) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # this file system cannot exchange: fall back to two renames
    raise OSError(err, os.strerror(err), b)


def _carry_over(old: str, new: str) -> None:
    """HELM writes into the existing folder, so files of the old folder that this attempt did
    not write stay; keep them in the new folder too (copies: the old one stays intact)."""
    for name in os.listdir(old):
        src, dst = os.path.join(old, name), os.path.join(new, name)
        if os.path.lexists(dst):
            continue
        if os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)


def commit_run_folder(settings: HelmSettings, run_name: str) -> None:
    """Swap the finished attempt in as the run's folder, durably."""
    staged = staging_folder(settings, run_name)
    if not os.path.isdir(staged):
        return  # a custom Runner wrote elsewhere, or skipped the run
    final = run_folder(settings, run_name)
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    occupant = foreign_occupant(settings, run_name)
    if occupant is not None:  # appeared while the run ran: it stays, this attempt goes
        shutil.rmtree(staged, ignore_errors=True)
        raise FileExistsError(errno.EEXIST, str(occupant), final)
    if os.path.isdir(final):
        if not os.listdir(staged):
            # HELM wrote nothing (--skip-instances, --cache-instances-only): it leaves the
            # existing folder as it was.
            shutil.rmtree(staged, ignore_errors=True)
            return
        _carry_over(final, staged)
    fsync_tree(staged)  # durable before it becomes the run folder
    if not os.path.lexists(final):
        os.rename(staged, final)
    elif _exchange(staged, final):
        shutil.rmtree(staged, ignore_errors=True)  # now the old folder
    else:
        old = _retired_folder(settings, run_name)
        shutil.rmtree(old, ignore_errors=True)
        os.makedirs(os.path.dirname(old), exist_ok=True)
        os.rename(final, old)  # a kill here: recover_run_folder puts it back
        os.rename(staged, final)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(parent)
