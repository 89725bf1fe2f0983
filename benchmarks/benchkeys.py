"""Keys for a benchmark's stores: the settings' own when set, else a fresh pair for this run.

Importing this module sets CONSENTRY_MASTER_KEY and CONSENTRY_BLIND_INDEX_KEY in the
environment unless they are set, so the processes a benchmark starts share them. (A local
SQLite database would make a key file beside itself; a PostgreSQL store needs the settings.)
"""

from __future__ import annotations

import base64
import os

for _setting in ("CONSENTRY_MASTER_KEY", "CONSENTRY_BLIND_INDEX_KEY"):
    os.environ.setdefault(_setting, base64.b64encode(os.urandom(32)).decode())
