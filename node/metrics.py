"""What ``GET /metrics`` reports, in Prometheus' text format.

Two kinds of figures. Counters of what this process served (HTTP requests, inbox
activities by type and result) live in memory, one registry per application, so two nodes
in one process (the federation tests) never mix their figures. Queue figures (depth by
state, age of the oldest due row, failures by domain) are read from the database at scrape
time: the queue is shared by every worker process, so only the database knows it whole,
and any web process can report it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import Delivery, DomainState
from node.db.models.delivery import DEAD, IN_FLIGHT, PENDING
from node.db.types import utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Failure series are per remote domain; report the worst ones only, so one bad day
#: with thousands of dead peers does not blow up the scrape.
MAX_DOMAINS = 100
#: Request latency buckets (seconds): inbox POSTs take ~1 ms, timelines a few ms.
#: Request methods reported by name; any other method is reported as OTHER.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


@dataclass(frozen=True)
class QueueStats:
    """The delivery queue as the database sees it at one instant."""

    due: int
    waiting: int
    in_flight: int
    dead: int
    oldest_due_age: float
    failing_by_domain: dict[str, int]
    dead_by_domain: dict[str, int]
    breaker_failures: dict[str, int]


class Metrics:
    """The metric objects of one application, with their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "cercle_http_requests",
            "HTTP requests served, by method, route pattern and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "cercle_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern.",
            ("route",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inbox = Counter(
            "cercle_inbox_activities",
            "Activities POSTed to an inbox, by activity type and result "
            "(applied, duplicate, ignored, or the refusal's status code).",
            ("type", "result"),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "cercle_delivery_queue_depth",
            "Delivery rows by state: due (pending, ready now), waiting (pending a retry), "
            "in_flight, dead.",
            ("state",),
            registry=self.registry,
        )
        self.queue_age = Gauge(
            "cercle_delivery_queue_oldest_due_seconds",
            "Age of the oldest delivery that is due and not yet sent (0 when none).",
            registry=self.registry,
        )
        self.failures = Gauge(
            "cercle_delivery_failures",
            "Deliveries whose last attempt failed, by remote domain: retrying (still "
            "pending) or dead (given up).",
            ("domain", "state"),
            registry=self.registry,
        )
        self.breaker = Gauge(
            "cercle_domain_consecutive_failures",
            "Consecutive failed deliveries per remote domain (the circuit breaker's count).",
            ("domain",),
            registry=self.registry,
        )
        self._request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._inbox_series: dict[tuple[str, str], Any] = {}

    def record_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request. The labelled series are looked up once and kept:
        ``labels()`` costs a lock and a tuple per call, a third of this on the inbox path.
        Methods other than HTTP's usual ones share one series, so a client inventing
        methods cannot grow the registry."""
        key = (method, route, status)
        series = self._request_series.get(key)
        if series is None:
            label = method if method in HTTP_METHODS else "OTHER"
            series = (
                self.requests.labels(label, route, str(status)),
                self.latency.labels(route),
            )
            self._request_series[key] = series
        series[0].inc()
        series[1].observe(seconds)

    def record_inbox(self, activity_type: str, result: str) -> None:
        key = (activity_type, result)
        series = self._inbox_series.get(key)
        if series is None:
            series = self._inbox_series[key] = self.inbox.labels(activity_type, result)
        series.inc()

    def set_queue(self, stats: QueueStats) -> None:
        for state, value in (
            ("due", stats.due),
            ("waiting", stats.waiting),
            ("in_flight", stats.in_flight),
            ("dead", stats.dead),
        ):
            self.queue_depth.labels(state).set(value)
        self.queue_age.set(stats.oldest_due_age)
        self.failures.clear()
        for domain, count in stats.failing_by_domain.items():
            self.failures.labels(domain, "retrying").set(count)
        for domain, count in stats.dead_by_domain.items():
            self.failures.labels(domain, "dead").set(count)
        self.breaker.clear()
        for domain, count in stats.breaker_failures.items():
            self.breaker.labels(domain).set(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def inbox_result(status: int, body: bytes | None) -> str:
    """The result label of an inbox answer: the 202's status word, else the HTTP code."""
    if status == 202 and body:
        for word in ("applied", "duplicate", "ignored"):
            if word.encode() in body:
                return word
        return "accepted"
    return str(status)


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


async def queue_stats(db: AsyncSession) -> QueueStats:
    """Counted with the queue's own index (state, next_attempt_at); done rows not read."""
    now = utcnow()
    pending_due = Delivery.next_attempt_at <= now
    due, oldest = (
        await db.execute(
            select(func.count(), func.min(Delivery.created_at)).where(
                Delivery.state == PENDING, pending_due
            )
        )
    ).one()
    waiting = await db.scalar(
        select(func.count()).where(Delivery.state == PENDING, Delivery.next_attempt_at > now)
    )
    in_flight = await db.scalar(select(func.count()).where(Delivery.state == IN_FLIGHT))
    dead = await db.scalar(select(func.count()).where(Delivery.state == DEAD))

    async def by_domain(*conditions: object) -> dict[str, int]:
        count = func.count().label("n")
        rows = await db.execute(
            select(Delivery.domain, count)
            .where(*conditions)  # type: ignore[arg-type]
            .group_by(Delivery.domain)
            .order_by(count.desc())
            .limit(MAX_DOMAINS)
        )
        return {domain: int(n) for domain, n in rows.all()}

    failing = await by_domain(Delivery.state == PENDING, Delivery.attempts > 0)
    dead_domains = await by_domain(Delivery.state == DEAD)
    breaker_rows = await db.execute(
        select(DomainState.domain, DomainState.failures)
        .where(DomainState.failures > 0)
        .order_by(DomainState.failures.desc())
        .limit(MAX_DOMAINS)
    )
    return QueueStats(
        due=int(due or 0),
        waiting=int(waiting or 0),
        in_flight=int(in_flight or 0),
        dead=int(dead or 0),
        oldest_due_age=_age(now, oldest),
        failing_by_domain=failing,
        dead_by_domain=dead_domains,
        breaker_failures={d: int(f) for d, f in breaker_rows.all()},
    )


#: set by the inbox gate on the request once it knows the activity's type
INBOX_TYPE_KEY = web.RequestKey("inbox_type", str)
#: types reported by name; anything else a peer invents is counted as "other", so a peer
#: cannot create series without bound
KNOWN_TYPES = frozenset(
    "Accept Add Announce Block Create Delete EmojiReact Flag Follow Like Move Question "
    "Reject Remove Undo Update".split()
)


def activity_type_label(value: object) -> str:
    if value is None:
        return "unknown"
    return value if isinstance(value, str) and value in KNOWN_TYPES else "other"
