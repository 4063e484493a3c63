"""The `jupyter artifacts` command line: a thin face over the core."""
