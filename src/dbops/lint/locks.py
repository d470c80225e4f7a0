"""PostgreSQL table lock modes, weakest to strongest.

>>> mode_name(ACCESS_EXCLUSIVE)
'ACCESS EXCLUSIVE'
>>> blocks_writes(SHARE), blocks_writes(SHARE_UPDATE_EXCLUSIVE)
(True, False)
"""

from __future__ import annotations

NONE = 0
ACCESS_SHARE = 1
ROW_SHARE = 2
ROW_EXCLUSIVE = 3
SHARE_UPDATE_EXCLUSIVE = 4
SHARE = 5
SHARE_ROW_EXCLUSIVE = 6
EXCLUSIVE = 7
ACCESS_EXCLUSIVE = 8

_NAMES = {
    NONE: "no",
    ACCESS_SHARE: "ACCESS SHARE",
    ROW_SHARE: "ROW SHARE",
    ROW_EXCLUSIVE: "ROW EXCLUSIVE",
    SHARE_UPDATE_EXCLUSIVE: "SHARE UPDATE EXCLUSIVE",
    SHARE: "SHARE",
    SHARE_ROW_EXCLUSIVE: "SHARE ROW EXCLUSIVE",
    EXCLUSIVE: "EXCLUSIVE",
    ACCESS_EXCLUSIVE: "ACCESS EXCLUSIVE",
}
BY_NAME = {v: k for k, v in _NAMES.items()}


def mode_name(mode: int) -> str:
    return _NAMES[mode]


def blocks_writes(mode: int) -> bool:
    """Does this mode conflict with ROW EXCLUSIVE (INSERT/UPDATE/DELETE)?"""
    return mode >= SHARE


def blocks_reads(mode: int) -> bool:
    """Does this mode conflict with ACCESS SHARE (plain SELECT)?"""
    return mode >= ACCESS_EXCLUSIVE


def what_it_blocks(mode: int) -> str:
    if mode >= ACCESS_EXCLUSIVE:
        return "blocks all reads and writes"
    if mode >= SHARE:
        return "blocks writes"
    if mode >= SHARE_UPDATE_EXCLUSIVE:
        return "blocks other schema changes and VACUUM"
    return "blocks nothing ordinary"
