#!/usr/bin/env python3
"""Export benchmark: GET /v1/urls/export over N links, with the server's memory before and after.

  1. starts kurz (embedded SQLite) once so that it creates its database and the bootstrap admin,
     stops it, and writes N links of that admin straight into SQLite (bench/run.py's bulk_load:
     through the API a million links would take most of an hour);
  2. starts kurz again, reads VmRSS and VmHWM (peak RSS) of its process from /proc/<pid>/status;
  3. for each format (jsonl, csv): downloads the export, counting bytes and lines without keeping
     them, and prints the time, the rate and VmRSS/VmHWM after it.

The export streams one page of links and one ~64 KiB piece at a time, so the peak RSS after an
export of a million links should stay near the peak before it; a server that built the whole body
would grow by its size (hundreds of MB). Figures, not assertions: nothing here fails on speed.

Usage: bench/export.py [--links N] [--kurz PATH] [--keep]
Needs a release build of kurz (cmake --preset bench && cmake --build --preset bench --target kurz).
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (Kurz, bulk_load, KEY)


def memory_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                out[name] = int(value.split()[0])
    return out


def export(base, fmt):
    req = urllib.request.Request(f"{base}/v1/urls/export?format={fmt}",
                                 headers={"Authorization": f"Bearer {run.KEY}"})
    start = time.monotonic()
    size = lines = 0
    with urllib.request.urlopen(req, timeout=600) as r:
        if r.headers.get("Transfer-Encoding") != "chunked":
            run.die(f"export not chunked: {dict(r.headers)}")
        while True:
            block = r.read(1 << 20)
            if not block:
                break
            size += len(block)
            lines += block.count(b"\n")
    return time.monotonic() - start, size, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--links", type=int, default=1_000_000)
    ap.add_argument("--kurz", default=os.path.join(run.ROOT, "build/bench/src/app/kurz"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if not os.access(args.kurz, os.X_OK):
        run.die(f"no kurz binary at {args.kurz} (build the bench preset, or pass --kurz)")
    work = tempfile.mkdtemp(prefix="kurz-export-bench-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    try:
        server = run.Kurz(args.kurz, data, threads=None)
        server.stop()
        t0 = time.monotonic()
        run.bulk_load(os.path.join(data, "kurz.db"), args.links)
        print(f"loaded {args.links} links into SQLite in {time.monotonic() - t0:.1f} s")
        server = run.Kurz(args.kurz, data, threads=None)
        try:
            before = memory_kib(server.proc.pid)
            print(f"kurz started: VmRSS {before['VmRSS'] / 1024:.1f} MiB, "
                  f"VmHWM {before['VmHWM'] / 1024:.1f} MiB")
            print(f"{'format':<7} {'links':>9} {'MiB':>8} {'seconds':>8} {'links/s':>9} "
                  f"{'VmRSS MiB':>10} {'VmHWM MiB':>10}")
            for fmt in ("jsonl", "csv"):
                seconds, size, lines = export(server.url, fmt)
                links = lines - (1 if fmt == "csv" else 0)
                after = memory_kib(server.proc.pid)
                print(f"{fmt:<7} {links:>9} {size / 2**20:>8.1f} {seconds:>8.2f} "
                      f"{links / seconds:>9.0f} {after['VmRSS'] / 1024:>10.1f} "
                      f"{after['VmHWM'] / 1024:>10.1f}")
                if links != args.links:
                    print(f"  warning: {links} links exported, {args.links} loaded")
        finally:
            server.stop()
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
