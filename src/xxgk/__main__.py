"""`python -m xxgk` runs the CLI."""

from xxgk.cli.main import main

main()
