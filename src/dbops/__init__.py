"""dbops — operate the PostgreSQL databases of the platform safely.

The CLI lives in :mod:`dbops.cli`; every command is also a plain function in
its capability package (``dbops.localdb``, ``dbops.lint``, ``dbops.health``…).
"""

__version__ = "0.1.0"
