"""A Zarr volume read from a local S3 server (moto) behind a loopback proxy that adds a fixed
delay to every request. Copy: chunkwise (whole process) vs TensorStore's s3 driver (timed inside
its process, from opening the input to the output written) vs chunkwise on local files. The seed
chain (clip, gaussian sigma 2, astype uint16, 2x mean downsample; TensorStore has no gaussian):
chunkwise from S3 vs on local files. Runs alternate round by round; outputs are local files.

usage: python3 s3_bench.py CHUNKWISE_BIN VOLUME.zarr WORKDIR [--rounds 3] [--delay-ms 20]
       [--threads 2]
Needs moto[server], boto3 and tensorstore (pip). Prints one line per run and a median table.
"""
import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

import boto3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(port):
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto did not start")


def start_proxy(listen, target, delay, log=None):
    """Forwards loopback TCP to `target`, holding the first piece of each request the client
    sends for `delay` seconds: a request starts with the first piece after the server last
    answered on that connection, so each request waits once, however large its body (an
    upload's body arrives in many pieces). With `log` (s3_trace.py), each request's first
    piece goes to `log.sent(data)` once forwarded and the server's first answer to that
    request calls `log.answered(token)` with what `sent` returned."""

    async def pipe(reader, writer, conn, upstream):
        try:
            while data := await reader.read(1 << 16):
                if upstream and conn["new_request"]:
                    conn["new_request"] = False
                    await asyncio.sleep(delay)
                    if log is not None:
                        conn["open"] = log.sent(data)
                elif not upstream:
                    conn["new_request"] = True
                    if log is not None and conn.get("open") is not None:
                        log.answered(conn.pop("open"))
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handle(client_r, client_w):
        server_r, server_w = await asyncio.open_connection("127.0.0.1", target)
        conn = {"new_request": True}
        await asyncio.gather(pipe(client_r, server_w, conn, True),
                             pipe(server_r, client_w, conn, False))

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", listen)
        async with server:
            await server.serve_forever()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()


def bench_bucket(volume, delay, log=None):
    """Starts moto and the delaying proxy (`start_proxy`) on loopback, uploads `volume` as
    `s3://bench/vol.zarr`, and returns (moto's process, the environment that points the AWS
    clients at the proxy, the proxy's URL). The caller kills moto."""
    moto_port, proxy_port = free_port(), free_port()
    moto = start_moto(moto_port)
    try:
        start_proxy(proxy_port, moto_port, delay, log)
        env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                   AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{moto_port}",
                          aws_access_key_id="bench", aws_secret_access_key="bench",
                          region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        upload(s3, "bench", volume, "vol.zarr")
    except BaseException:
        moto.kill()
        raise
    proxied = f"http://127.0.0.1:{proxy_port}"
    env["AWS_ENDPOINT_URL"] = proxied
    return moto, env, proxied


def upload(s3, bucket, folder, prefix):
    for root, _, files in os.walk(folder):
        for f in files:
            path = os.path.join(root, f)
            key = prefix + "/" + os.path.relpath(path, folder).replace(os.sep, "/")
            s3.upload_file(path, bucket, key)


def run_chunkwise(binary, pipeline, env, threads, extra=()):
    """Seconds of one `chunkwise run` (whole process), with `extra` arguments."""
    start = time.perf_counter()
    subprocess.run([binary, "run", pipeline, "--overwrite", "-q", "--threads", str(threads),
                    *extra], check=True, env=env)
    return time.perf_counter() - start


TS_PEER = r"""
import sys, time
import tensorstore as ts
endpoint, bucket, key, out, threads = sys.argv[1:6]
threads = int(threads)
ctx = ts.Context({"data_copy_concurrency": {"limit": threads}})
start = time.perf_counter()
x = ts.open({"driver": "zarr3", "kvstore": {"driver": "s3", "bucket": bucket,
             "endpoint": endpoint, "aws_region": "us-east-1", "path": key + "/"}},
            context=ctx).result()
spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": out}, "metadata": {
    "shape": list(x.shape), "data_type": "uint16",
    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(x.chunk_layout.read_chunk.shape)}},
    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
               {"name": "zstd", "configuration": {"level": 1}}]}}
ts.open(spec, create=True, delete_existing=True, context=ctx).result().write(x).result()
print(time.perf_counter() - start)
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("chunkwise")
    ap.add_argument("volume")
    ap.add_argument("workdir")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--delay-ms", type=float, default=20)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)

    moto, env, proxied = bench_bucket(a.volume, a.delay_ms / 1000)
    try:
        pipelines = {}
        steps = {
            "copy": [{"id": "y", "op": "astype", "x": "x", "dtype": "uint16"}],
            "seed": [{"id": "c", "op": "clip", "x": "x", "min": 10000, "max": 40000},
                     {"id": "g", "op": "gaussian_filter", "x": "c", "sigma": 2.0},
                     {"id": "u", "op": "astype", "x": "g", "dtype": "uint16"},
                     {"id": "y", "op": "downsample", "x": "u", "factors": [2, 2, 2],
                      "method": "mean"}],
        }
        for name, src in [("s3", "s3://bench/vol.zarr"), ("local", os.path.abspath(a.volume))]:
            for pipe, chain in steps.items():
                out = os.path.join(os.path.abspath(a.workdir), f"out-{name}.zarr")
                p = {"inputs": {"x": src}, "steps": chain,
                     "outputs": [{"from": "y", "path": out, "codec": {"name": "zstd", "level": 1}}]}
                pipelines[f"{pipe} {name}"] = os.path.join(a.workdir, f"{pipe}-{name}.json")
                with open(pipelines[f"{pipe} {name}"], "w") as f:
                    json.dump(p, f)
        peer = os.path.join(a.workdir, "ts_s3_peer.py")
        with open(peer, "w") as f:
            f.write(TS_PEER)

        times = {"copy: chunkwise s3": [], "copy: tensorstore s3": [], "copy: chunkwise local": [],
                 "seed: chunkwise s3": [], "seed: chunkwise local": []}
        for r in range(a.rounds):
            t = run_chunkwise(a.chunkwise, pipelines["copy s3"], env, a.threads)
            times["copy: chunkwise s3"].append(t)
            out = subprocess.run([sys.executable, peer, proxied, "bench", "vol.zarr",
                                  os.path.join(a.workdir, "out-ts.zarr"), str(a.threads)],
                                 check=True, env=env, capture_output=True, text=True).stdout
            times["copy: tensorstore s3"].append(float(out.strip().splitlines()[-1]))
            times["copy: chunkwise local"].append(
                run_chunkwise(a.chunkwise, pipelines["copy local"], env, a.threads))
            for where in ("s3", "local"):
                times[f"seed: chunkwise {where}"].append(
                    run_chunkwise(a.chunkwise, pipelines[f"seed {where}"], env, a.threads))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
        print(f"\nmedians over {a.rounds} rounds, {a.delay_ms:g} ms added per request:")
        med = {k: statistics.median(v) for k, v in times.items()}
        for k, v in med.items():
            print(f"  {k:24s} {v:6.2f} s")
        print(f"  copy: tensorstore s3 / chunkwise s3 = "
              f"{med['copy: tensorstore s3'] / med['copy: chunkwise s3']:.2f}x")
        for pipe in ("copy", "seed"):
            print(f"  {pipe}: chunkwise s3 / chunkwise local = "
                  f"{med[f'{pipe}: chunkwise s3'] / med[f'{pipe}: chunkwise local']:.2f}x")
    finally:
        moto.kill()
        moto.wait()
        for d in ("out-s3.zarr", "out-local.zarr", "out-ts.zarr"):
            shutil.rmtree(os.path.join(a.workdir, d), ignore_errors=True)


if __name__ == "__main__":
    main()
