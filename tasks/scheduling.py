"""The scheduler that is safe to start twice: `celery beat` with a lease in the database.

Only the beat holding the lease "beat" sends periodic tasks; another one started by mistake
(a second compose stack, a process manager restarting too eagerly) waits and takes over when
the holder stops renewing (it died) or releases the lease (a clean stop).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any

from celery.beat import PersistentScheduler
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from config import load_settings
from services.leases import hold, release

log = logging.getLogger(__name__)

LEASE = "beat"


class LeasedScheduler(PersistentScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = load_settings()
        self._ttl = settings.beat_lease_seconds
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._engine = create_engine(settings.database_url, pool_pre_ping=True)
        self._leading: bool | None = None  # unknown until the first tick: say which
        super().__init__(*args, **kwargs)

    def _lead(self) -> bool:
        try:
            with Session(self._engine) as session:
                leading = hold(session, LEASE, self._holder, self._ttl)
        except Exception:
            # Database unreachable: stop sending; whoever holds it when it is back sends.
            log.exception("beat: could not reach the database to renew the lease")
            leading = False
        if leading != self._leading:
            log.warning("beat %s: %s", self._holder,
                        "holds the lease, sending periodic tasks" if leading
                        else "another beat holds the lease; standing by")
            self._leading = leading
        return leading

    def tick(self, *args: Any, **kwargs: Any) -> float:
        # Renew well inside the lease: at most a third of it between two ticks.
        pause = self._ttl / 3
        if not self._lead():
            return pause
        return min(float(super().tick(*args, **kwargs)), pause)

    def close(self) -> None:
        super().close()
        if self._leading is True:
            try:
                with Session(self._engine) as session:
                    release(session, LEASE, self._holder)
            except Exception:
                log.exception("beat: could not release the lease (it expires by itself)")
        self._engine.dispose()
