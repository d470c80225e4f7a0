"""Events collected on the session (``session.info``) and handed to listeners by an ``after_commit`` hook.

A rolled-back transaction (an error, a retried serialization failure)
publishes nothing: its events are dropped by the ``after_rollback`` hook.
Listeners run after the commit, so a failing listener cannot undo the
transaction; its exception is logged, never raised to the service.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

_KEY = "platformdb.events"
logger = logging.getLogger("platformdb.events")


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Something that happened in the domain (``user.created``), with what a consumer needs to act on it."""

    name: str
    payload: Mapping[str, object]
    tenant: int | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: datetime.datetime = field(default_factory=_utcnow)


class EventListener(Protocol):
    def __call__(self, event: DomainEvent, /) -> None: ...


def record_event(session: Session, event: DomainEvent) -> None:
    """Record ``event`` in the session's transaction; it is published only if that transaction commits."""
    session.info.setdefault(_KEY, []).append(event)


def pending_events(session: Session) -> tuple[DomainEvent, ...]:
    """Events recorded in the session's current transaction and not yet published."""
    return tuple(session.info.get(_KEY, ()))


class EventBus:
    """Listeners by event name (or all events); ``install`` hooks it to a session class."""

    def __init__(self) -> None:
        self._listeners: list[tuple[str | None, EventListener]] = []

    def subscribe(self, listener: EventListener, *, name: str | None = None) -> Callable[[], None]:
        """Call ``listener`` for each committed event (named ``name``, or all); returns the unsubscribe function."""
        entry = (name, listener)
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry) if entry in self._listeners else None

    def publish(self, events: Sequence[DomainEvent]) -> None:
        for item in events:
            for name, listener in list(self._listeners):
                if name is not None and name != item.name:
                    continue
                try:
                    listener(item)
                except Exception:
                    logger.exception("listener %r failed on event %s (%s)", listener, item.name, item.id)

    def install(self, session_class: type[Session]) -> None:
        """Publish a session's recorded events after each commit; drop them on rollback."""

        def after_commit(session: Session) -> None:
            events = session.info.pop(_KEY, None)
            if events:
                self.publish(events)

        def after_rollback(session: Session) -> None:
            session.info.pop(_KEY, None)

        event.listen(session_class, "after_commit", after_commit)
        event.listen(session_class, "after_rollback", after_rollback)
