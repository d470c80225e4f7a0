"""``dbops studio``: a local web UI to browse (and with ``--write`` edit) the schemas' data.

Starlette + Jinja2 templates + uvicorn, bound to 127.0.0.1, behind a guard
(Host, token cookie, Origin, body limits, CSP) — see ``guards``. Reads run in
read-only transactions; secrets are never read (``secrets``); tables are
paged by keyset (``rows``); writes are NULL-aware and typed (``edits``).

    server = StudioServer([Target("healthcare", url)], StudioOptions(write=False)).check().start()
    print(server.login_url)
"""

from dbops.studio.app import StudioOptions, Target, create_app
from dbops.studio.server import StudioServer, check_write_allowed

__all__ = ["StudioOptions", "StudioServer", "Target", "check_write_allowed", "create_app"]
