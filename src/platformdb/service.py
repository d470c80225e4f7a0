"""The base of the services: a tenant's use cases, each one transaction (sync or asyncio from the same code).

A use case is a method decorated with ``@unit_of_work(...)`` whose second
parameter is the transaction's ``Session``; callers do not pass it::

    class AppointmentService(Service):
        @unit_of_work(timeout=10.0)
        def transfer_appointment(self, session: Session, appointment_id: int, ...) -> Appointment: ...

    AppointmentService(db, clinic_id=7).transfer_appointment(42, ...)           # Database: the result
    await AppointmentService(adb, clinic_id=7).transfer_appointment(42, ...)    # AsyncDatabase: an awaitable

The body runs inside ``Database.transaction`` (retried on serialization
failures and deadlocks, so it must not have effects outside the session:
events go through ``platformdb.events.record_event`` and are published after
the commit). Under asyncio the same body runs through
``AsyncSession.run_sync`` — one implementation, no async copy to keep in step.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy.orm import Session

from platformdb import errors

if TYPE_CHECKING:
    from platformdb.database import AsyncDatabase, Database

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S", bound="Service")


class Service:
    """Use cases of one tenant on a ``Database`` or an ``AsyncDatabase``."""

    def __init__(self, db: Database | AsyncDatabase, tenant_id: int) -> None:
        if tenant_id is None:
            raise errors.TenantRequired(f"{type(self).__name__} needs a tenant")
        self.db = db
        self.tenant_id = int(tenant_id)

    @property
    def is_async(self) -> bool:
        from platformdb.database import AsyncDatabase

        return isinstance(self.db, AsyncDatabase)


def unit_of_work(
    *,
    timeout: float | None = None,
    isolation: str | None = None,
    read_only: bool = False,
    retries: int | None = None,
) -> Callable[[Callable[Concatenate[S, Session, P], T]], Callable[Concatenate[S, P], T]]:
    """Run the decorated method in one transaction of the service's tenant (see the module docstring).

    With an ``AsyncDatabase`` the decorated method returns an awaitable of the result.
    """

    def decorate(body: Callable[Concatenate[S, Session, P], T]) -> Callable[Concatenate[S, P], T]:
        @functools.wraps(body)
        def run(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
            def work(session: Session) -> T:
                return body(self, session, *args, **kwargs)

            options: dict[str, Any] = {
                "timeout": timeout,
                "isolation": isolation,
                "read_only": read_only,
                "retries": retries,
                "tenant": self.tenant_id,
            }
            return self.db.transaction(work, **options)  # type: ignore[return-value]  # awaitable when async

        run.__unit_of_work__ = body  # type: ignore[attr-defined]  # the body, to compose inside another session
        return cast(Callable[Concatenate[S, P], T], run)

    return decorate
