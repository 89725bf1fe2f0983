"""What carries out erasure and access requests (`services/dsr_handling.Hooks`), for the CLI and the API.

The erasure (storage v2's `services/erasure.py`) and the access export (`services/access.py`)
are separate services; this is the one place that hands them to request handling. The
erasure runs inside the request's write transaction (`Hooks.erase(app, w, point_ids,
reason)`: append `contact_point.erased`, keep the suppression records, destroy the key) and
`Hooks.scrub(app)` after it commits. Until they are wired here, handling such a request
says so and changes nothing.
"""

from __future__ import annotations

from consentry.bootstrap import App
from consentry.services.dsr_handling import Hooks


def hooks(app: App) -> Hooks:
    """The erase and export services of this installation."""
    return Hooks()
