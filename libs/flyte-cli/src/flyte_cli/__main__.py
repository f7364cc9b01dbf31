"""`python -m flyte_cli` is the `flyte` command."""

from flyte_cli.main import main

main()
