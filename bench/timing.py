"""How every benchmark here times a Python peer: one warm-up call, then `repeat` timed calls."""

import statistics
import time


def time_peer(fn, repeat):
    """Median and min in ms of `repeat` calls of fn after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "runs": repeat}


def median_ms(fn, repeat):
    return time_peer(fn, repeat)["median_ms"]
