"""The application layer: between the commands (and the language server) and compiler/runtime.

options.py is the one table of options; settings.py reads [tool.helmc]; check.py, plan.py and
run.py are what helm-check, `helmc plan` and helm-run do, as functions that return what the
commands print.
"""
