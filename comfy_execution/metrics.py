"""Process-wide counters and histograms for `/metrics`, rendered in Prometheus' text format (version 0.0.4).

The executor and the queue update the metrics defined at the bottom of this file; the metrics route renders
them together with values it reads at request time (jobs by state, model loads).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

# Seconds: from cheap prompts on a GPU to long video jobs.
TIME_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(str(value))}"' for name, value in labels.items()) + "}"


class Counter:
    """A number that only goes up."""

    def __init__(self, name: str, help_text: str):
        self.name = name
        self.help_text = help_text
        self._value = 0.0
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0) -> None:
        with self._lock:
            self._value += amount

    @property
    def value(self) -> float:
        return self._value

    def render(self) -> str:
        return f"# HELP {self.name} {self.help_text}\n# TYPE {self.name} counter\n{self.name} {_number(self._value)}\n"


class Histogram:
    """Observed durations (seconds) in cumulative buckets, with their sum and count."""

    def __init__(self, name: str, help_text: str, buckets: Iterable[float] = TIME_BUCKETS):
        self.name = name
        self.help_text = help_text
        self.buckets = tuple(sorted(buckets))
        self._bucket_counts = [0] * len(self.buckets)
        self._sum = 0.0
        self._count = 0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        with self._lock:
            self._sum += value
            self._count += 1
            for index, upper in enumerate(self.buckets):
                if value <= upper:
                    self._bucket_counts[index] += 1

    @property
    def count(self) -> int:
        return self._count

    def mean(self) -> float | None:
        """The mean observation, None before the first."""
        with self._lock:
            return self._sum / self._count if self._count else None

    def render(self) -> str:
        with self._lock:
            lines = [f"# HELP {self.name} {self.help_text}", f"# TYPE {self.name} histogram"]
            for upper, count in zip(self.buckets, self._bucket_counts, strict=True):
                lines.append(f'{self.name}_bucket{{le="{_number(upper)}"}} {count}')
            lines.append(f'{self.name}_bucket{{le="+Inf"}} {self._count}')
            lines.append(f"{self.name}_sum {_number(self._sum)}")
            lines.append(f"{self.name}_count {self._count}")
        return "\n".join(lines) + "\n"


def _render_samples(name: str, help_text: str, kind: str, samples: dict[tuple[tuple[str, str], ...], float]) -> str:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{_labels(dict(labels))} {_number(value)}" for labels, value in samples.items()]
    return "\n".join(lines) + "\n"


def render_gauge(name: str, help_text: str, samples: dict[tuple[tuple[str, str], ...], float]) -> str:
    """A gauge read at request time: `samples` maps label pairs (`(("state", "pending"),)`) to values."""
    return _render_samples(name, help_text, "gauge", samples)


def render_labelled_counter(name: str, help_text: str, samples: dict[tuple[tuple[str, str], ...], float]) -> str:
    """A counter kept elsewhere with one sample per label set (per worker), read at request time."""
    return _render_samples(name, help_text, "counter", samples)


def render_counter(name: str, help_text: str, value: float) -> str:
    """A counter kept elsewhere (the model library's load count), read at request time."""
    return f"# HELP {name} {help_text}\n# TYPE {name} counter\n{name} {_number(value)}\n"


node_cache_hits = Counter("kiln_node_cache_hits_total", "Nodes whose outputs came from the cache.")
node_cache_misses = Counter("kiln_node_cache_misses_total", "Nodes that were executed (not found in the cache).")
queue_wait_seconds = Histogram("kiln_job_queue_wait_seconds", "Seconds a job waited in the queue before it started.")
execution_seconds = Histogram("kiln_job_execution_seconds", "Seconds a job ran, from start to finish.")

METRICS = (node_cache_hits, node_cache_misses, queue_wait_seconds, execution_seconds)


def render_all() -> str:
    """Every metric of this module, in the text format."""
    return "".join(metric.render() for metric in METRICS)
