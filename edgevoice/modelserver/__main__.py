"""``python -m edgevoice.modelserver [--host H] [--port P]``."""

from .cli import main

raise SystemExit(main())
