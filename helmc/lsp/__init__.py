"""`helmc lsp`: a language server for HELM run entries conf files and HELM's config YAML files
(pygls 2, lsprotocol).

A front end beside the command line: it calls the application layer (helmc/app/check.py's
`helm_check`, the check helm-check runs, on the editor's text) and never the reverse.

wire.py        the stdio frames and the serve loop (`main`)
features.py    what each LSP request and notification does
documents.py   the documents, their settings and catalog, and their analysis (helm-check's check)
complete.py    the token under the cursor; completion and hover from the catalog
actions.py     quick fixes (titled by the rule registry), fix all, formatting
"""
