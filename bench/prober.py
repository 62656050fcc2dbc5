"""A bounded prober of the app's front door: 50 requests/s during a deploy.

Each request is a new connection to http://127.0.0.1:PORT/api/v1/health/ with
`Host: localhost` and a short timeout. A request is good when it answers 200;
anything else (another status, a refused or reset connection, a timeout) is a
failed request. The prober stops by itself after `max_duration` seconds and
never sends more than rate x max_duration requests.

`summarize` (pure, unit-tested) turns the samples into: requests sent, failed
requests by kind, the longest gap with no good answer, and when the first good
answer of a given version came; `kept_serving` tells whether one version answered
throughout (a refused deploy never moves the traffic).

Usage by hand: python -m bench.prober --port 8081 --duration 10
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

HEALTH_PATH = "/api/v1/health/"


@dataclass(frozen=True)
class Sample:
    """One request: when it was sent and answered (epoch s), and what came back."""

    sent: float
    done: float
    status: int | None = None  # HTTP status; None when no answer
    error: str | None = None  # timeout, refused, reset, ... when no answer
    version: str | None = None  # the `version` field of a 200 answer

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def kind(self) -> str:
        """What happened, for counting: `ok`, `http_503`, `timeout`, `refused` ..."""
        if self.status is not None:
            return "ok" if self.ok else f"http_{self.status}"
        return self.error or "error"


@dataclass
class ProbeSummary:
    requests: int
    good: int
    failed: int
    failures_by_kind: dict[str, int]
    longest_gap_s: float  # longest time in the window with no good answer
    longest_gap_from_s: float  # where that gap starts, seconds after the reference
    window_s: float
    first_good_of_version_s: float | None = None  # first good answer of `version`, after ref
    version: str | None = None
    extra: dict[str, float | None] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def longest_gap(
    good_times: Sequence[float], window_start: float, window_end: float
) -> tuple[float, float]:
    """The longest stretch of [window_start, window_end] with no time in GOOD_TIMES.

    Returns (length, start). With no good answer at all the gap is the whole window.
    Times outside the window are ignored.
    """
    inside = sorted(t for t in good_times if window_start <= t <= window_end)
    points = [window_start, *inside, window_end]
    best, best_start = 0.0, window_start
    for before, after in itertools.pairwise(points):
        if after - before > best:
            best, best_start = after - before, before
    return best, best_start


def summarize(
    samples: Sequence[Sample],
    window_start: float,
    window_end: float,
    reference: float,
    version: str | None = None,
) -> ProbeSummary:
    """Failed requests, the longest gap without a good answer and, when VERSION is
    given, the first good answer of that version sent after REFERENCE (the start of
    the command), all times in seconds after REFERENCE."""
    kinds = Counter(s.kind for s in samples)
    good = kinds.pop("ok", 0)
    gap, gap_start = longest_gap([s.done for s in samples if s.ok], window_start, window_end)
    first = None
    if version is not None:
        hits = [s.done for s in samples if s.ok and s.version == version and s.sent >= reference]
        first = min(hits) - reference if hits else None
    return ProbeSummary(
        requests=len(samples),
        good=good,
        failed=len(samples) - good,
        failures_by_kind=dict(sorted(kinds.items())),
        longest_gap_s=round(gap, 3),
        longest_gap_from_s=round(gap_start - reference, 3),
        window_s=round(window_end - window_start, 3),
        first_good_of_version_s=round(first, 3) if first is not None else None,
        version=version,
    )


def kept_serving(samples: Sequence[Sample], version: str, since: float) -> bool:
    """Whether VERSION alone answered from SINCE on: every request sent from then got a
    good answer of VERSION or timed out (a slow machine, not a switch); none was refused,
    reset, answered with an error status or by another version. False with no sample."""
    after = [s for s in samples if s.sent >= since]
    return bool(after) and all(
        (s.ok and s.version == version) or s.kind == "timeout" for s in after
    )


def probe_once(port: int, timeout: float, host: str = "127.0.0.1", header: str = "localhost"):
    """One request to the health URL; never raises."""
    sent = time.time()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", HEALTH_PATH, headers={"Host": header, "Connection": "close"})
        resp = conn.getresponse()
        body = resp.read(65536)
        version = None
        if resp.status == 200:
            try:
                version = json.loads(body).get("version")
            except (ValueError, AttributeError):
                version = None
        return Sample(sent, time.time(), status=resp.status, version=version)
    except TimeoutError:
        return Sample(sent, time.time(), error="timeout")
    except ConnectionRefusedError:
        return Sample(sent, time.time(), error="refused")
    except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError):
        return Sample(sent, time.time(), error="reset")
    except (OSError, http.client.HTTPException) as exc:
        return Sample(sent, time.time(), error=type(exc).__name__)
    finally:
        conn.close()


class Prober:
    """Sends `rate` requests/s to the health URL on 127.0.0.1:PORT in the background.

    Bounded: stops at `stop()` or after `max_duration` s, whichever comes first;
    each request times out after `timeout` s.
    """

    def __init__(
        self, port: int, rate: float = 50.0, timeout: float = 1.0, max_duration: float = 600.0
    ) -> None:
        self.port = port
        self.rate = rate
        self.timeout = timeout
        self.max_duration = max_duration
        self.samples: list[Sample] = []
        self.started = 0.0
        self.stopped = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"prober-{port}", daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> Prober:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.started = time.time()
        self._thread.start()

    def stop(self) -> list[Sample]:
        """Stops sending, waits for the requests in flight, returns every sample."""
        self.stopped = time.time()  # the window ends here; answers after it still count
        self._stop.set()
        self._thread.join(timeout=self.timeout + 30)
        with self._lock:
            return sorted(self.samples, key=lambda s: s.sent)

    def _record(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)

    def _one(self) -> None:
        self._record(probe_once(self.port, self.timeout))

    def _loop(self) -> None:
        interval = 1.0 / self.rate
        limit = int(self.rate * self.max_duration)
        start = time.monotonic()
        workers = max(4, int(self.rate * self.timeout) + 8)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:
            for i in range(limit):
                delay = start + i * interval - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
                if self._stop.is_set():
                    break
                pool.submit(self._one)
        # leaving the with-block waits for requests in flight (each bounded by timeout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="front door port, e.g. 8081")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds (at most 600)")
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    duration = min(args.duration, 600.0)
    prober = Prober(args.port, rate=args.rate, max_duration=duration)
    prober.start()
    time.sleep(duration)
    samples = prober.stop()
    summary = summarize(samples, prober.started, prober.stopped, prober.started)
    print(json.dumps(summary.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
