"""`python -m dnne` runs the dnne command line."""

from dnne.cli import main

if __name__ == "__main__":
    main()
