"""What the bot counts for Prometheus, and what it reads from the database at each scrape.

Counters and histograms live here, once per process, and are bumped where things
happen (the outbox worker, the adapters, the dispatcher's outcome hook); gauges that
describe stored state (the outbox's backlog) are read when ``/metrics`` is asked for,
so they are never stale. Labels carry no user text and no user or room ids: a room is
named by its name in the config; rooms an admin set up in chat (whose names were typed
there) are counted together as "set up in chat", and direct messages as "direct".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.config import Config
from bot.rooms import Rooms
from storage import outbox
from storage.database import Database

# Seconds: a relay on loopback takes ~30 ms; a minute is the outbox's longest backoff.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

RELAYED = Counter("caucus_relayed_messages", "Messages relayed across the bridge",
                  ["direction", "kind"], registry=None)
DELIVERY_LATENCY = Histogram("caucus_delivery_latency_seconds",
                             "From queued in the outbox to sent, by the network sent to",
                             ["network"], buckets=LATENCY_BUCKETS, registry=None)
COMMANDS = Counter("caucus_commands", "Commands run, by name and outcome (answered; refused: "
                   "the user was told what was wrong; failed: a bug, logged with a reference)",
                   ["command", "outcome"], registry=None)
FLOOD_WAITS = Counter("caucus_flood_control_waits", "Times a network asked the bot to slow "
                      "down (Telegram 429, Matrix M_LIMIT_EXCEEDED)", ["network"],
                      registry=None)
FLOOD_SECONDS = Counter("caucus_flood_control_wait_seconds", "Seconds waited for flood control",
                        ["network"], registry=None)
SYNC_LAG = Histogram("caucus_matrix_sync_lag_seconds", "Age of a Matrix event when a sync "
                     "hands it to the bot (origin_server_ts to receipt)",
                     buckets=LATENCY_BUCKETS, registry=None)
OWN = (RELAYED, DELIVERY_LATENCY, COMMANDS, FLOOD_WAITS, FLOOD_SECONDS, SYNC_LAG)


def relayed(source_room: str | None, room: str, kind: str) -> None:
    """Count a sent row that carried a message from one network to the other."""
    if not source_room:
        return
    source, target = source_room.split(":", 1)[0], room.split(":", 1)[0]
    if source != target:
        RELAYED.labels(f"{source}_to_{target}", kind).inc()


def count_command(name: str, outcome: str) -> None:
    """The dispatcher's outcome hook (``Dispatcher.on_outcome``)."""
    COMMANDS.labels(name, outcome).inc()


def flood_wait(network: str, seconds: float) -> None:
    FLOOD_WAITS.labels(network).inc()
    FLOOD_SECONDS.labels(network).inc(seconds)


class StateCollector(Collector):
    """Gauges read at scrape time: leadership, the outbox's backlog per room, and how long
    ago each network was last heard from."""

    def __init__(self, config: Config, database: Database, *, leading: Callable[[], bool],
                 last_contact: Callable[[], dict[str, float | None]],
                 now: Callable[[], datetime], monotonic: Callable[[], float]):
        self.config, self.database = config, database
        self.leading, self.last_contact = leading, last_contact
        self.now, self.monotonic = now, monotonic

    def room_name(self, room_id: str, rooms: Rooms) -> str:
        room = self.config.room_for(room_id)
        if room is not None:
            return room.name
        return "set up in chat" if rooms.room_for(room_id) is not None else "direct"

    def collect(self) -> Iterable[Metric]:
        leader = GaugeMetricFamily("caucus_leader", "1 while this process serves (the leader); "
                                   "0 while it waits to take over (a standby)")
        leader.add_metric([], 1.0 if self.leading() else 0.0)
        yield leader
        contact = GaugeMetricFamily("caucus_network_last_contact_age_seconds",
                                    "Seconds since the network last answered a poll or sync",
                                    labels=["network"])
        for network, at in self.last_contact().items():
            if at is not None:
                contact.add_metric([network], round(self.monotonic() - at, 3))
        yield contact
        yield from self._backlog()

    def _backlog(self) -> Iterable[Metric]:
        labels = ["room", "network"]
        pending = GaugeMetricFamily("caucus_outbox_pending", "Rows waiting to be delivered",
                                    labels=labels)
        failed = GaugeMetricFamily("caucus_outbox_failed", "Rows kept as failed, with their "
                                   "error (/bridge status shows it)", labels=labels)
        oldest = GaugeMetricFamily("caucus_outbox_oldest_pending_age_seconds",
                                   "Age of the oldest row waiting", labels=labels)
        totals: dict[tuple[str, str, str], int] = {}
        ages: dict[tuple[str, str], float] = {}
        with self.database.session() as db:
            rows = outbox.backlog(db)
            rooms = Rooms.read(self.config, db)
        now = self.now()
        for room_id, status, count, first in rows:
            key = (self.room_name(room_id, rooms), room_id.split(":", 1)[0])
            totals[(*key, status)] = totals.get((*key, status), 0) + count
            if status == outbox.PENDING:
                ages[key] = max(ages.get(key, 0.0), (now - first).total_seconds())
        for (room, network, status), count in sorted(totals.items()):
            (pending if status == outbox.PENDING else failed).add_metric([room, network], count)
        for (room, network), age in sorted(ages.items()):
            oldest.add_metric([room, network], round(age, 3))
        yield from (pending, failed, oldest)


def registry(state: StateCollector) -> CollectorRegistry:
    """What ``/metrics`` shows: our counters, the stored state, the process's own figures."""
    from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

    out = CollectorRegistry()
    for metric in OWN:
        out.register(metric)
    out.register(state)
    ProcessCollector(registry=out)
    PlatformCollector(registry=out)
    GCCollector(registry=out)
    return out
