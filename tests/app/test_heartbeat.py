"""A one-shot command that works long in silence shows a line on a terminal's standard error,
cleared by the first thing it writes; piped or redirected, nothing of it appears."""

from __future__ import annotations

import io
import re
import threading
import time

import pytest

from helmc import cli, heartbeat
from helmc.commands import fmt


class FakeTerminal(io.StringIO):
    def __init__(self, tty: bool = True) -> None:
        super().__init__()
        self.tty = tty
        self.lock = threading.Lock()

    def isatty(self) -> bool:
        return self.tty


LINE = re.compile(r"\r\x1b\[2K. helmc fmt: working \(\d+ s\)")


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(heartbeat, "QUIET_AFTER", 0.05)
    monkeypatch.setattr(heartbeat, "INTERVAL", 0.01)
    monkeypatch.delenv("TERM", raising=False)


def _slow_fmt(monkeypatch, seconds: float, *, ticks: int = 0) -> None:
    """`helmc fmt`'s work made slow: `seconds` of silence, or `ticks` lines spread over them."""
    real = fmt._files

    def slow(args):
        for _ in range(ticks):
            print("tick")
            time.sleep(seconds / ticks)
        if not ticks:
            time.sleep(seconds)
        return real(args)

    monkeypatch.setattr(fmt, "_files", slow)


def _conf(tmp_path):
    p = tmp_path / "r.conf"
    p.write_text('entries: [{description: "simple1:model=simple/model1", priority: 1}]\n')
    assert cli.main(["fmt", str(p)]) == 0  # in fmt's layout: --check passes on it
    return str(p)


@pytest.mark.parametrize("tty", [True, False])
def test_the_line_appears_only_on_a_terminal_and_is_cleared(fast, monkeypatch, tmp_path, capsys, tty):
    terminal = FakeTerminal(tty)
    monkeypatch.setattr(cli.sys, "__stderr__", terminal)
    conf = _conf(tmp_path)
    _slow_fmt(monkeypatch, 0.4)
    assert cli.main(["fmt", "--check", conf]) == 0
    shown = terminal.getvalue()
    if tty:
        assert LINE.search(shown), shown
        assert shown.endswith("\r\x1b[2K")  # cleared before the summary (and at the end)
    else:
        assert shown == ""
    assert "1 left unchanged" in capsys.readouterr().out


def test_output_restarts_the_silence(fast, monkeypatch, tmp_path, capsys):
    # 0.6 s of work that writes a line every 0.1 s never stays silent for 0.5 s
    monkeypatch.setattr(heartbeat, "QUIET_AFTER", 0.5)
    terminal = FakeTerminal(True)
    monkeypatch.setattr(cli.sys, "__stderr__", terminal)
    conf = _conf(tmp_path)
    _slow_fmt(monkeypatch, 0.6, ticks=6)
    assert cli.main(["fmt", "--check", conf]) == 0
    assert "working" not in terminal.getvalue()
    assert capsys.readouterr().out.count("tick") == 6


def test_commands_with_displays_of_their_own_have_none():
    assert {"run", "status", "lsp"}.isdisjoint(cli.QUIET_WORK)
    assert set(cli.QUIET_WORK) <= set(cli.COMMANDS)


def test_a_terminal_that_goes_away_stops_the_line(fast):
    class Gone(FakeTerminal):
        def write(self, s: str) -> int:
            raise OSError(5, "Input/output error")

    beat = heartbeat.Heartbeat("helmc fmt", Gone(True))
    beat.start()
    time.sleep(0.2)
    beat.stop()  # returns: the thread ended on the error
    assert not beat._thread.is_alive()
