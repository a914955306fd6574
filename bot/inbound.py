"""What every adapter does with an inbound message: once only, relayed, answered.

The adapters translate; this decides. An inbound message is recorded as
handled in the same transaction that queues its relay to the paired room, so a
network that delivers it twice (or a restart that re-reads it) neither runs a
command twice nor relays a message twice, and a crash loses neither. Answers
and relays are queued in the outbox, so each room keeps its order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.bridge import Bridge
from bot.dispatcher import Clock, Dispatcher
from bot.events import Event
from storage import inbound, outbox
from storage.database import Database


class Inbound:
    def __init__(self, dispatcher: Dispatcher, database: Database, clock: Clock,
                 wake_outbox: Callable[..., None]):
        self.dispatcher = dispatcher
        self.database = database
        self.clock = clock
        self.wake_outbox = wake_outbox
        self.bridge = Bridge(dispatcher.config)

    async def receive(self, event: Event, *, version: str = "",
                      resume: tuple[str, str] | None = None) -> bool:
        """Handle an event unless handled before; True if it was new.

        ``resume``: a (name, value) resume point to store in the same transaction
        (the Telegram offset after this update), so that it costs no commit of its own.
        """
        place = self.dispatcher.place_for(event)
        bridged = place is not None and not place.is_direct and \
            self.bridge.partner(event.room_id) is not None
        command = event.edit_of is None and self.dispatcher.is_command(event)
        with self.database.session() as db:
            fresh = inbound.first_sighting(db, event.room_id, event.message_id, version,
                                           self.clock())
            relayed = fresh and bridged and not command and \
                self.bridge.relay(db, event, self.clock()) > 0
            if resume is not None:
                inbound.set_resume(db, *resume)
            db.commit()
        if not fresh:
            return False
        partner = self.bridge.partner(event.room_id)
        if relayed and partner is not None:
            self.wake_outbox(partner)
            # Let the delivery start (up to its request on the wire) before the adapter
            # goes on to build its next poll or sync request: that work is not this
            # message's, and would otherwise sit in front of its send.
            await asyncio.sleep(0)
        reply = await self.dispatcher.handle(event)
        if reply is None and not (bridged and command):
            return True
        with self.database.session() as db:
            if reply is not None:
                outbox.enqueue(db, event.room_id, reply, now=self.clock(),
                               reply_to=event.message_id)
            if bridged and command and not (reply is not None and reply.withhold):
                # The command and its answer appear on the other side too, in that order.
                self.bridge.relay(db, event, self.clock())
                if reply is not None:
                    self.bridge.mirror(db, event, reply, self.clock())
            db.commit()
        self.wake_outbox(*[r for r in (event.room_id, partner if bridged else None) if r])
        return True
