"""Code generation: identifiers, literals, Jinja rendering, ruff formatting and the export pipeline."""
