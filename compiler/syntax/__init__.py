"""The readers: conf files (HOCON), run entries, HELM's YAML with positions; the front end."""
