"""The command line: `helmc <subcommand>`, plus the `helm-check` and `helm-run` aliases."""
