"""``python -m livehost`` runs the same CLI as the ``livehost`` command."""

import sys

from livehost.cli import main

sys.exit(main())
