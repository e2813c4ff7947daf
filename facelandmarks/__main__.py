"""``python -m facelandmarks ...``: the same as the ``facelandmarks`` command."""

from __future__ import annotations

from facelandmarks.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
