"""Dask's figures for bench/graph_bench.ts's graphs, for comparison.

    /usr/bin/python3 bench/dask_graph.py

On a LocalCluster of 2 worker processes with 2 threads each (as the Redis
group's 2 nodes of 2 workers), one client:
- a chain of 1,000 tasks, each taking the one before's future
  (client.submit(inc, previous)), and the same by hand (result, then submit);
- a fan-in of 1,000 tasks into one that takes all their futures.
Medians of 9 runs after one warmup, in ms. Needs Debian's
python3-distributed; without it this says so and exits 0.
"""

import statistics
import sys
import time

try:
    from distributed import Client, LocalCluster
except ImportError:
    print("skipped: python3-distributed is not installed "
          "(apt-get install python3-distributed)")
    sys.exit(0)

CHAIN = 1_000
FAN_IN = 1_000
RUNS = 9


def inc(x):
    return x + 1


def total(*xs):
    return sum(xs)


def chain_by_hand(client):
    value = 0
    for _ in range(CHAIN):
        value = client.submit(inc, value, pure=False).result()
    assert value == CHAIN, value


def chain_as_graph(client):
    last = client.submit(inc, -1, pure=False)
    for _ in range(CHAIN):
        last = client.submit(inc, last, pure=False)
    assert last.result() == CHAIN


def fan_in_by_hand(client):
    parts = [client.submit(inc, i, pure=False) for i in range(FAN_IN)]
    values = client.gather(parts)
    got = client.submit(total, *values, pure=False).result()
    assert got == FAN_IN * (FAN_IN + 1) // 2, got


def fan_in_as_graph(client):
    parts = [client.submit(inc, i, pure=False) for i in range(FAN_IN)]
    got = client.submit(total, *parts, pure=False).result()
    assert got == FAN_IN * (FAN_IN + 1) // 2, got


def median_ms(work, client):
    work(client)  # warmup
    spans = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work(client)
        spans.append((time.perf_counter() - started) * 1000)
    return statistics.median(spans)


def main():
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                      dashboard_address=None) as cluster, \
            Client(cluster) as client:
        for group, by_hand, as_graph in [
            (f"chain of {CHAIN:,} tasks", chain_by_hand, chain_as_graph),
            (f"fan-in of {FAN_IN:,} into 1", fan_in_by_hand,
             fan_in_as_graph),
        ]:
            hand = median_ms(by_hand, client)
            graph = median_ms(as_graph, client)
            print(f"median {group}, Dask LocalCluster 2x2, by hand: "
                  f"{hand:.1f} ms")
            print(f"median {group}, Dask LocalCluster 2x2, as a graph: "
                  f"{graph:.1f} ms ({graph / hand:.2f}x by hand)")


if __name__ == "__main__":
    main()
