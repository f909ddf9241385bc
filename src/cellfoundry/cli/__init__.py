"""The `cellfoundry` command line (Typer); see `cellfoundry --help`."""
