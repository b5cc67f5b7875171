"""``python -m jitwarm``: the CLI."""

from ._cli import main

main()
