"""`python -m xxgk` runs the CLI."""

from .cli import main

main()
