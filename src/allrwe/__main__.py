"""``python -m allrwe``: the ``allrwe`` command line."""

from allrwe.cli.app import entry

if __name__ == "__main__":  # pragma: no cover
    entry()
