"""Where an S3 -> S3 copy spends its time: the copy of s3_write_bench.py (chunkwise, whole
process; TensorStore's s3 driver, timed inside its process) through a loopback proxy that adds a
fixed delay to each request and records every request it forwards. Per run it prints the wall
time, the requests by method, the requests in flight (peak, and the mean over the run), the
time with none in flight, the server's answer time (from the request forwarded to the first
byte of the answer) and the CPU seconds moto and the proxy spent.

usage: python3 s3_trace.py CHUNKWISE_BIN VOLUME.zarr WORKDIR [--rounds 3] [--delay-ms 20]
       [--threads 2] [--io-concurrency N ...]
Needs moto[server], boto3 and tensorstore (pip).
"""
import argparse
import collections
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3_bench import bench_bucket  # noqa: E402
from s3_write_bench import TS_PEER  # noqa: E402


METHODS = {b"GET", b"HEAD", b"PUT", b"POST", b"DELETE"}


class Log:
    """Requests seen by the proxy (`s3_bench.start_proxy`'s `log`): (method, forwarded at,
    first answer byte at)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []

    def sent(self, data):
        method = data.split(b" ", 1)[0]
        # Not a request line: a body sent after the server's "100 Continue" (curl asks for one
        # before large uploads), which the proxy held too.
        return [method.decode() if method in METHODS else "100-continue", time.perf_counter()]

    def answered(self, token):
        with self.lock:
            self.requests.append((token[0], token[1], time.perf_counter()))

    def take(self):
        with self.lock:
            taken, self.requests = self.requests, []
        return taken


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(requests, start, end, delay):
    """Counts by method, in-flight peak and mean (delay included: the request is on its way),
    seconds with nothing in flight, median server answer time."""
    by_method = collections.Counter(m for m, _, _ in requests)
    edges = sorted([(t0 - delay, 1) for _, t0, _ in requests] +
                   [(t1, -1) for _, _, t1 in requests])
    flight = peak = 0
    idle = 0.0
    last = start
    area = 0.0
    for t, step in edges:
        t = min(max(t, start), end)
        area += flight * (t - last)
        if flight == 0:
            idle += t - last
        last = t
        flight += step
        peak = max(peak, flight)
    idle += end - last if flight == 0 else 0
    answer = statistics.median(t1 - t0 for _, t0, t1 in requests) if requests else 0
    return by_method, peak, area / (end - start), idle, answer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("chunkwise")
    ap.add_argument("volume")
    ap.add_argument("workdir")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--delay-ms", type=float, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--io-concurrency", type=int, nargs="*", default=[],
                    help="also run chunkwise with each of these --io-concurrency values")
    ap.add_argument("--no-tensorstore", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    work = os.path.abspath(a.workdir)
    delay = a.delay_ms / 1000

    log = Log()
    moto, env, proxied = bench_bucket(a.volume, delay, log)
    try:
        pipeline = os.path.join(work, "copy-s3.json")
        with open(pipeline, "w") as f:
            json.dump({"inputs": {"x": "s3://bench/vol.zarr"},
                       "steps": [{"id": "y", "op": "astype", "x": "x", "dtype": "uint16"}],
                       "outputs": [{"from": "y", "path": "s3://bench/out-copy.zarr",
                                    "codec": {"name": "zstd", "level": 1}}]}, f)
        peer = os.path.join(work, "ts_s3_write_peer.py")
        with open(peer, "w") as f:
            f.write(TS_PEER)

        runs = {"chunkwise": []}
        runs.update({f"chunkwise io {n}": [n] for n in a.io_concurrency})
        if not a.no_tensorstore:
            runs["tensorstore"] = None
        walls = collections.defaultdict(list)
        for r in range(a.rounds):
            for name, io in runs.items():
                log.take()
                moto_cpu = cpu_seconds(moto.pid)
                own = resource.getrusage(resource.RUSAGE_SELF)
                start = time.perf_counter()
                if io is None:
                    out = subprocess.run([sys.executable, peer, proxied, "bench", "vol.zarr",
                                          "out-ts.zarr", str(a.threads)], check=True, env=env,
                                         capture_output=True, text=True).stdout
                    inside = float(out.strip().splitlines()[-1])
                else:
                    extra = ["--io-concurrency", str(io[0])] if io else []
                    subprocess.run([a.chunkwise, "run", pipeline, "--overwrite", "-q",
                                    "--threads", str(a.threads), *extra], check=True, env=env)
                    inside = None
                end = time.perf_counter()
                moto_cpu = cpu_seconds(moto.pid) - moto_cpu
                now = resource.getrusage(resource.RUSAGE_SELF)
                proxy_cpu = now.ru_utime + now.ru_stime - own.ru_utime - own.ru_stime
                by_method, peak, mean, idle, answer = summary(log.take(), start, end, delay)
                wall = inside if inside is not None else end - start
                walls[name].append(wall)
                methods = " ".join(f"{m} {n}" for m, n in sorted(by_method.items()))
                print(f"round {r + 1} {name:16s} {wall:5.2f} s (process {end - start:5.2f} s); "
                      f"{methods}; in flight peak {peak}, mean {mean:4.1f}; none in flight "
                      f"{idle:4.2f} s; server answers in {answer * 1000:5.1f} ms (median); "
                      f"CPU moto {moto_cpu:4.2f} s, proxy {proxy_cpu:4.2f} s", flush=True)
        print(f"\nmedians over {a.rounds} rounds ({a.delay_ms:g} ms per request, "
              f"--threads {a.threads}):")
        for name, v in walls.items():
            print(f"  {name:16s} {statistics.median(v):5.2f} s")
    finally:
        moto.kill()
        moto.wait()


if __name__ == "__main__":
    main()
