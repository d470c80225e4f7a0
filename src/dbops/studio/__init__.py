"""``dbops studio``: a small local web UI to browse (and with ``write=True`` edit) a database.

Bound to 127.0.0.1 only; read-only sessions unless write is enabled; edits
need the per-run token embedded in the page (no cross-site form posts).
"""

from dbops.studio.server import StudioServer, serve

__all__ = ["StudioServer", "serve"]
