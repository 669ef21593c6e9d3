"""The ``everyclaim`` command line (Typer + Rich): the top layer, over every domain package."""

from everyclaim.cli.app import app, main

__all__ = ["app", "main"]
