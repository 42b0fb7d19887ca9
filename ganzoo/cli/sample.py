"""Placeholder: filled by its issue."""
def add_parser(sub):
    pass
