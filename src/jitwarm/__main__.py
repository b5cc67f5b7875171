"""``python -m jitwarm``: the CLI."""

from jitwarm.cli.main import main

main()
