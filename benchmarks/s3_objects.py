"""S3 PutObject/GetObject of 1 MB and 100 MB objects: throughput and the server's peak memory.

Baselines in the same run: writing/reading the same bytes to/from a local file (the disk's own
speed) and moto_server (which keeps objects in memory).
Run: .venv/bin/python benchmarks/s3_objects.py [--sizes 1,100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _servers import Server, start_moto, start_nimbus

MB = 1024 * 1024


def make_file(folder: Path, size_mb: int) -> Path:
    path = folder / f"payload-{size_mb}mb.bin"
    with open(path, "wb") as f:
        for _ in range(size_mb):
            f.write(os.urandom(MB))
    return path


def disk_baseline(path: Path, folder: Path, repeat: int) -> tuple[float, float]:
    size = path.stat().st_size
    writes, reads = [], []
    for i in range(repeat):
        target = folder / f"copy-{i}"
        start = time.perf_counter()
        with open(path, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, MB)
            dst.flush()
            os.fsync(dst.fileno())
        writes.append(size / MB / (time.perf_counter() - start))
        start = time.perf_counter()
        with open(target, "rb") as src:
            while src.read(MB):
                pass
        reads.append(size / MB / (time.perf_counter() - start))
        target.unlink()
    return statistics.median(writes), statistics.median(reads)


def server_run(server: Server, path: Path, repeat: int) -> tuple[float, float, float, float]:
    """Median MB/s for put and get, the server's peak RSS growth and its peak RSS, in MB."""
    s3 = server.client("s3")
    bucket = "bench-" + server.name
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    size = path.stat().st_size
    server.reset_peak_rss()
    rss_before = server.rss_mb()
    puts, gets = [], []
    for i in range(repeat):
        start = time.perf_counter()
        with open(path, "rb") as body:
            s3.put_object(Bucket=bucket, Key=f"obj-{i}", Body=body)
        puts.append(size / MB / (time.perf_counter() - start))
        start = time.perf_counter()
        stream = s3.get_object(Bucket=bucket, Key=f"obj-{i}")["Body"]
        received = sum(len(chunk) for chunk in stream.iter_chunks(MB))
        gets.append(size / MB / (time.perf_counter() - start))
        assert received == size
        s3.delete_object(Bucket=bucket, Key=f"obj-{i}")
    peak = server.peak_rss_mb()
    return statistics.median(puts), statistics.median(gets), max(peak - rss_before, 0.0), peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,100")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="s3-bench-"))
    nimbus, data = start_nimbus()
    moto = start_moto()
    rows = []
    try:
        for size_mb in (int(s) for s in args.sizes.split(",")):
            path = make_file(work, size_mb)
            repeat = args.repeat if size_mb < 50 else max(2, args.repeat // 2)
            disk_put, disk_get = disk_baseline(path, work, repeat)
            rows.append((size_mb, "disk", disk_put, disk_get, float("nan"), float("nan")))
            rows.append((size_mb, "nimbus", *server_run(nimbus, path, repeat)))
            if moto is not None:
                rows.append((size_mb, "moto", *server_run(moto, path, repeat)))
            path.unlink()
    finally:
        nimbus.stop()
        if moto is not None:
            moto.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
    print("S3 PutObject/GetObject through boto3 (median MB/s; server RSS in MB)")
    columns = ("put MB/s", "get MB/s", "RSS growth", "peak RSS")
    print(f"{'size':>6} {'target':7} " + " ".join(f"{c:>10}" for c in columns))
    for size_mb, name, put, get, growth, peak in rows:
        print(f"{size_mb:>4}MB {name:7} {put:10.1f} {get:10.1f} {growth:10.1f} {peak:10.1f}")
    by = {(r[0], r[1]): r for r in rows}
    for size_mb in sorted({r[0] for r in rows}):
        nim = by[(size_mb, "nimbus")]
        line = f"{size_mb} MB: nimbus peak RSS growth {nim[4]:.1f} MB for a {size_mb} MB object"
        if (size_mb, "moto") in by:
            moto_row = by[(size_mb, "moto")]
            line += f"; put {nim[2] / moto_row[2]:.2f}x and get {nim[3] / moto_row[3]:.2f}x moto"
        print(line)


if __name__ == "__main__":
    main()
