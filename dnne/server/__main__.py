"""`python -m dnne.server` = `dnne serve`."""

from dnne.server.cli import main

main()
