"""``python -m pycrm``: the same command line as the ``pycrm`` script."""

from pycrm.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
