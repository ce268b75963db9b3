"""Business metrics of permits (names fixed in docs/CONTRACTS.md).

The ``township`` label only takes configured towns (anything else is dropped), so the series
count stays bounded; counters start at 0 for every town (and level) so rates work from the
first scrape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import Counter, Gauge

from township_permits.domain.applications import ApplicationState

APPLICATIONS = Gauge(
    "township_permits_applications", "Applications by township and state", ["township", "state"]
)
OVERDUE = Gauge(
    "township_permits_applications_overdue",
    "Undecided applications past their promised due date",
    ["township"],
)
BREACHES = Counter(
    "township_permits_deadline_breaches",
    "Time limits breached (promised or statutory), counted once each",
    ["township"],
)
RATINGS = Counter("township_permits_ratings", "Ratings (好差评) received", ["township", "level"])

_towns: set[str] = set()


def init(towns: Iterable[str]) -> None:
    """Remember the configured towns and create every series at 0."""
    _towns.clear()
    _towns.update(towns)
    for town in _towns:
        OVERDUE.labels(town).set(0)
        BREACHES.labels(town).inc(0)
        for level in range(1, 6):
            RATINGS.labels(town, str(level)).inc(0)
        for state in ApplicationState:
            APPLICATIONS.labels(town, state.value).set(0)


def _known(town: str) -> bool:
    return town in _towns


def breach(town: str) -> None:
    """Count one breached time limit."""
    if _known(town):
        BREACHES.labels(town).inc()


def rating(town: str, level: int) -> None:
    """Count one rating."""
    if _known(town):
        RATINGS.labels(town, str(level)).inc()


def set_applications(counts: Mapping[tuple[str, str], int], overdue: Mapping[str, int]) -> None:
    """Refresh the gauges from the database's counts (missing pairs are 0)."""
    for town in _towns:
        for state in ApplicationState:
            APPLICATIONS.labels(town, state.value).set(counts.get((town, state.value), 0))
        OVERDUE.labels(town).set(overdue.get(town, 0))
