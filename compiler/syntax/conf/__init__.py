"""The conf reader: run entries conf files (HOCON) -> HOCON values -> run entries.

- lexer.py        the post-lexer that folds HOCON's commas and newlines into separators
- builder.py      Builder: values, keys and merges as pyhocon reads them (both readers use it)
- lark_reader.py  conf.lark's LALR parse with error recovery, and its tree -> IR transformer
- fast_reader.py  a reader for the plain shape of conf files, with Lark's own lexer regex
- reader.py       parse_conf: which reader reads a file; read_entries: a file's run entries
- schema.py       the front end's last step: HOCON values -> run entries (HELM's RunEntry)
"""

from __future__ import annotations

from .builder import MAX_DEPTH, Builder
from .reader import parse_conf, read_entries
from .schema import ENTRY_KEYS, entries_of

__all__ = ["MAX_DEPTH", "Builder", "ENTRY_KEYS", "entries_of", "parse_conf", "read_entries"]
