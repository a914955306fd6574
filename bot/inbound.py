"""What every adapter does with an inbound message: once only, then answer through the outbox.

The adapters translate; this decides. An inbound message is recorded as
handled before it is acted on, so a network that delivers it twice (or a
restart that re-reads it) does not run a command twice. The answer is queued in
the outbox like every other message, so it keeps its place in the room's order.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.dispatcher import Clock, Dispatcher
from bot.events import Event
from storage import inbound, outbox
from storage.database import Database


class Inbound:
    def __init__(self, dispatcher: Dispatcher, database: Database, clock: Clock,
                 wake_outbox: Callable[[], None]):
        self.dispatcher = dispatcher
        self.database = database
        self.clock = clock
        self.wake_outbox = wake_outbox

    async def receive(self, event: Event, *, version: str = "") -> bool:
        """Handle an event unless handled before; True if it was new."""
        with self.database.session() as db:
            fresh = inbound.first_sighting(db, event.room_id, event.message_id, version,
                                           self.clock())
            db.commit()
        if not fresh:
            return False
        reply = await self.dispatcher.handle(event)
        if reply is not None:
            with self.database.session() as db:
                outbox.enqueue(db, event.room_id, reply, now=self.clock(),
                               reply_to=event.message_id)
                db.commit()
            self.wake_outbox()
        return True
