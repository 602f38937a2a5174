"""`helmc parse` shows a description as its file holds it: every control character, the NUL
byte included (which the reader blanks to a space to parse the rest), in JSON as itself and in
text as its visible Unicode control picture, never as a space or raw on the terminal."""

from __future__ import annotations

import json

import pytest

from helmc.cli import main

# C0 controls a conf file's quoted string can hold (a line break would end the string), and DEL
CONTROLS = [chr(c) for c in [*range(0x20), 0x7F] if chr(c) not in "\n\r"]


def _visible(ch: str) -> str:
    return "\u2421" if ch == "\x7f" else chr(0x2400 + ord(ch))


@pytest.mark.parametrize("ch", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
@pytest.mark.parametrize("where", ["value", "name", "twice"])
def test_a_control_character_in_a_description_is_shown_as_written(tmp_path, capsys, ch, where):
    description = {"value": f"a:b=x{ch}y", "name": f"a{ch}:b=1", "twice": f"a:b={ch}x,c={ch}"}[where]
    conf = tmp_path / "e.conf"
    conf.write_bytes(b'entries: [{description: "' + description.encode() + b'", priority: 1}]\n')

    main(["parse", "--format", "json", str(conf)])
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"][0]["entries"][0]["description"] == description

    main(["parse", str(conf)])
    shown = capsys.readouterr().out.splitlines()[1]
    assert shown == f"  1:11  {description.replace(ch, _visible(ch))}  priority=1"
    assert ch not in shown


def test_a_space_stays_a_space_beside_a_nul(tmp_path, capsys):
    conf = tmp_path / "e.conf"
    conf.write_bytes(b'entries: [{description: "a:b=x \x00 y"}]\n')
    main(["parse", "--format", "json", str(conf)])
    assert json.loads(capsys.readouterr().out)["files"][0]["entries"][0]["description"] == "a:b=x \x00 y"
