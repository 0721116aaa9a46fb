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
import asyncio
import collections
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3_bench import free_port, start_moto, upload  # noqa: E402
from s3_write_bench import TS_PEER  # noqa: E402


METHODS = {b"GET", b"HEAD", b"PUT", b"POST", b"DELETE"}


class Log:
    """Requests seen by the proxy: (method, forwarded at, first answer byte at)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []

    def take(self):
        with self.lock:
            taken, self.requests = self.requests, []
        return taken


def start_tracing_proxy(listen, target, delay, log):
    """As s3_bench.start_proxy (the first piece of each request held `delay` seconds), noting
    each request's method, when it was forwarded and when the server began to answer."""

    async def pipe(reader, writer, conn, upstream):
        try:
            while data := await reader.read(1 << 16):
                if upstream and conn["new_request"]:
                    conn["new_request"] = False
                    await asyncio.sleep(delay)
                    method = data.split(b" ", 1)[0]
                    # Not a request line: a body sent after the server's "100 Continue"
                    # (curl asks for one before large uploads), which the delay held too.
                    conn["open"] = [method.decode() if method in METHODS else "100-continue",
                                    time.perf_counter(), None]
                elif not upstream:
                    conn["new_request"] = True
                    if conn["open"] is not None:
                        conn["open"][2] = time.perf_counter()
                        with log.lock:
                            log.requests.append(tuple(conn["open"]))
                        conn["open"] = None
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handle(client_r, client_w):
        server_r, server_w = await asyncio.open_connection("127.0.0.1", target)
        conn = {"new_request": True, "open": None}
        await asyncio.gather(pipe(client_r, server_w, conn, True),
                             pipe(server_r, client_w, conn, False))

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", listen)
        async with server:
            await server.serve_forever()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()


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

    moto_port, proxy_port = free_port(), free_port()
    moto = start_moto(moto_port)
    log = Log()
    try:
        start_tracing_proxy(proxy_port, moto_port, delay, log)
        env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                   AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{moto_port}",
                          aws_access_key_id="bench", aws_secret_access_key="bench",
                          region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        upload(s3, "bench", a.volume, "vol.zarr")
        proxied = f"http://127.0.0.1:{proxy_port}"
        env["AWS_ENDPOINT_URL"] = proxied
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
