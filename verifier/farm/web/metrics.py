"""Prometheus metrics, read from the farm's state at each scrape (so every `farm serve`
process reports the same numbers, whichever one Prometheus asks).

``verifier_farm_jobs{state}``, ``verifier_farm_queue_length``, ``verifier_farm_running``,
``verifier_farm_results_total{verdict}``, the histogram ``verifier_farm_job_duration_seconds{verdict}``
(an attempt's start to its result), ``verifier_farm_seconds_to_result{quantile}`` (submit
to result), and the gauges an operator alerts on: the oldest queued job's age, attempts
running past their deadline, results not signed yet. Label values are the farm's own state and
verdict words; the exposition library escapes them in any case.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from verifier.farm.models import JobState
from verifier.farm.web.views import STATES, Counts, FarmReader

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


def _bound(le: float) -> str:
    return "+Inf" if le == float("inf") else repr(float(le))


def families(counts: Counts) -> Iterator[Metric]:
    jobs = GaugeMetricFamily("verifier_farm_jobs", "Jobs by state.", labels=["state"])
    for state in (*STATES, *sorted(set(counts.by_state) - set(STATES))):
        jobs.add_metric([state], counts.by_state.get(state, 0))
    yield jobs
    yield GaugeMetricFamily("verifier_farm_queue_length", "Jobs waiting for a worker.",
                            value=counts.by_state.get(JobState.QUEUED.value, 0))
    queued = GaugeMetricFamily("verifier_farm_queued", "Jobs waiting, by broker queue.", labels=["queue"])
    for queue, n in sorted(counts.queued_by_queue.items()):
        queued.add_metric([queue], n)
    yield queued
    yield GaugeMetricFamily("verifier_farm_running", "Jobs a worker is running now.",
                            value=counts.by_state.get(JobState.RUNNING.value, 0))
    yield GaugeMetricFamily("verifier_farm_oldest_queued_seconds", "Age of the oldest queued job (0: none queued).",
                            value=counts.oldest_queued_seconds or 0.0)
    yield GaugeMetricFamily("verifier_farm_running_past_deadline", "Attempts running past their time limit (should stay 0).",
                            value=counts.running_past_deadline)
    yield GaugeMetricFamily("verifier_farm_unsigned_results", "Results the attester has not signed yet.",
                            value=counts.unsigned_results)
    yield from _latency(counts)
    results = CounterMetricFamily("verifier_farm_results", "Results stored, by verdict.", labels=["verdict"])
    for verdict, n in sorted(counts.by_verdict.items()):
        results.add_metric([verdict], n)
    yield results
    durations = HistogramMetricFamily("verifier_farm_job_duration_seconds",
                                      "Time from a job's start to its result, by verdict.", labels=["verdict"])
    for verdict, h in sorted(counts.durations.items()):
        durations.add_metric([verdict], [(_bound(le), n) for le, n in h.buckets], sum_value=h.total)
    yield durations


def _latency(counts: Counts) -> Iterator[Metric]:
    latency = GaugeMetricFamily("verifier_farm_seconds_to_result",
                                "Submit to result, over the latest results, by quantile.", labels=["quantile"])
    for quantile, value in (("0.5", counts.latency_p50), ("0.95", counts.latency_p95)):
        if value is not None:
            latency.add_metric([quantile], value)
    yield latency


class _FarmCollector:
    def __init__(self, reader: FarmReader) -> None:
        self._reader = reader

    def collect(self) -> Iterator[Metric]:
        return families(self._reader.counts())


def exposition(reader: FarmReader) -> bytes:
    """The text exposition format, from one read of the farm's counts."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_FarmCollector(reader))
    return generate_latest(registry)
