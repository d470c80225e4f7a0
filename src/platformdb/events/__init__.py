"""Domain events: recorded by services inside a transaction, delivered only after it commits.

Today delivery is in-process (``EventBus`` listeners); the transactional
outbox will replace the transport (insert into an outbox table in the same
transaction, a relay publishes) without any change to the services, which only
ever call ``record_event(session, DomainEvent(...))``.
"""

from platformdb.events.recorder import DomainEvent, EventBus, EventListener, pending_events, record_event

__all__ = ["DomainEvent", "EventBus", "EventListener", "pending_events", "record_event"]
