"""Command-line interface; see :mod:`ganzoo.cli.main`."""
