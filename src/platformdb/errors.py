"""The errors of the runtime data layer: one hierarchy, domain errors apart from infrastructure errors.

Services raise the domain errors (``NotFound``, ``InvalidState``,
``Conflict``…) for the caller to turn into a 404/400/409; ``Database``
turns driver errors into the infrastructure ones (``DatabaseBusy``,
``TransactionTimeout``…) so that no psycopg or SQLAlchemy exception type
leaks into application code.
"""

from __future__ import annotations


class PlatformDBError(Exception):
    """Base of every error ``platformdb`` raises."""


# -- domain errors --------------------------------------------------------------------------------------


class DomainError(PlatformDBError):
    """A use case cannot be carried out as asked; nothing was changed."""


class NotFound(DomainError):
    """No such row for this tenant (rows of other tenants are "not found" too)."""

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key!r} not found")
        self.entity = entity
        self.key = key


class InvalidState(DomainError):
    """The row exists but its state forbids the operation (e.g. transferring a completed appointment)."""


class InvalidInput(DomainError):
    """An argument the use case cannot accept (e.g. a search term too short to use an index)."""


class Conflict(DomainError):
    """A concurrent change won: a slot already booked, an appointment already transferred, stock gone.

    Retrying the same request will fail the same way; the caller should re-read and decide.
    """


class SlotUnavailable(Conflict):
    """The slot (a doctor's availability, a designer's time) is not free."""


class StaleState(Conflict):
    """The row changed since the caller read it (optimistic check failed)."""


class OutOfStock(Conflict):
    """Not enough stock left for an order line."""


# -- infrastructure errors ----------------------------------------------------------------------------------


class DatabaseError(PlatformDBError):
    """The database could not carry out the work (the transaction was rolled back)."""


class DatabaseUnavailable(DatabaseError):
    """The server cannot be reached or refused the connection."""


class DatabaseBusy(DatabaseError):
    """No pooled connection became free within ``max_wait``."""


class TransactionTimeout(DatabaseError):
    """A statement or the whole transaction ran past its ``timeout``."""


class SerializationFailure(DatabaseError):
    """A serialization failure or deadlock (SQLSTATE 40001/40P01): the transaction may succeed if re-run."""


class RetriesExhausted(SerializationFailure):
    """Serialization failures or deadlocks persisted through every retry."""


class PermissionDenied(DatabaseError):
    """The application role may not do this (e.g. update the append-only audit log)."""


class ConstraintViolation(DatabaseError):
    """A constraint refused the change and no use case turned it into a domain error."""

    def __init__(self, message: str, *, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class TenantViolation(DatabaseError):
    """Row-level security refused a write (the row belongs to another tenant, or no tenant was set)."""


class TenantRequired(PlatformDBError):
    """A tenant-scoped operation was started without a tenant."""
