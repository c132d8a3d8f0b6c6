#!/usr/bin/env python3
"""What link options cost: redirects of links with targeting rules against plain links, and
links per second through POST /v1/urls/bulk against single creates, on one kurz (embedded).

What it does, in order:
  1. starts kurz (embedded SQLite, release build) with the API rate limit off, and the benchmark
     GeoIP database when `bench/make_bench_mmdb.pl` can make one (so that country rules look a
     country up, as in life);
  2. creates --links plain links and --links links with three targeting rules (country + device,
     device + language, os), through bulk requests;
  3. alternates A B A B: `wrk -t1 -c64 -d10s` over random plain codes (A) and random rule codes
     (B), with bench/redirect.lua's browser headers, and prints req/s, p50, p99 and the server's
     CPU microseconds per request, and B - A;
  4. measures creates: wrk with bench/create.lua (one link per request) and bench/bulk_create.lua
     (--batch links per request), and prints links per second for each.

wrk shares the machine's cores with kurz: compare the rows of one run, not across machines.
Usage: bench/options.py [--links N] [--duration S] [--rounds R] [--batch B] [--kurz PATH]
"""

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("kurz_bench_run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

RULES = [
    {"if": {"country": ["DE", "AT", "CH"], "device": ["mobile"]}, "url": "https://example.de/app"},
    {"if": {"device": ["tablet"], "language": ["fr", "es"]}, "url": "https://example.fr/tab"},
    {"if": {"os": ["iOS"]}, "url": "https://apps.apple.com/app/id1"},
]


def post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {run.KEY}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def make_links(base, n, with_rules, tag):
    codes = []
    for start in range(0, n, 1000):
        items = []
        for i in range(start, min(n, start + 1000)):
            item = {"url": f"https://example.com/{tag}/{i}"}
            if with_rules:
                item["rules"] = RULES
            items.append(item)
        for r in post(base, "/v1/urls/bulk", {"items": items})["results"]:
            if r["status"] not in (200, 201):
                run.die(f"bulk create failed: {r}")
            codes.append(r["link"]["code"])
    return codes


def mmdb(work):
    script = os.path.join(HERE, "make_bench_mmdb.pl")
    out = os.path.join(work, "bench.mmdb")
    try:
        subprocess.run(["perl", script, out], check=True, capture_output=True)
        return out
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--links", type=int, default=20_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch", type=int, default=100, help="links per bulk request")
    ap.add_argument("--kurz", default=os.path.join(os.path.dirname(HERE), "build/release/src/app/kurz"))
    args = ap.parse_args()
    if not shutil.which("wrk"):
        run.die("wrk is not installed (scripts/install-deps --bench)")
    if not os.access(args.kurz, os.X_OK):
        run.die(f"no kurz binary at {args.kurz} (cmake --preset release && cmake --build --preset release)")
    work = tempfile.mkdtemp(prefix="kurz-bench-options-")
    geo = mmdb(work)
    extra = ["--geoip", geo] if geo else []
    os.makedirs(os.path.join(work, "data"))
    kurz = run.Kurz(args.kurz, os.path.join(work, "data"), threads=None, extra=extra)
    try:
        plain = make_links(kurz.url, args.links, False, "plain")
        rules = make_links(kurz.url, args.links, True, "rules")
        files = {}
        for name, codes in (("plain", plain), ("rules", rules)):
            files[name] = os.path.join(work, f"{name}.codes")
            with open(files[name], "w") as f:
                f.write("\n".join(codes) + "\n")
        script = os.path.join(HERE, "redirect.lua")
        print(f"1. redirects: {args.links} plain links (A) vs {args.links} links with 3 rules (B), "
              f"wrk -t1 -c64 -d{args.duration}s, GeoIP {'on' if geo else 'off'}, A B A B")
        print(f"{'':4}{'config':28}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'cpu us':>9}")
        results = {"plain": [], "rules": []}
        for _ in range(args.rounds):
            for name in ("plain", "rules"):
                r = run.run_wrk(kurz.url, script, 64, args.duration, kurz.proc.pid,
                                env={"KURZ_BENCH_CODES": files[name]}, settle=kurz.settle)
                if r["non2xx"] or r["socket_errors"]:
                    run.die(f"{name}: {r['non2xx']} non-3xx answers, socket errors {r['socket_errors']}")
                results[name].append(r)
                label = "A  plain links" if name == "plain" else "B  links with 3 rules"
                print(f"    {label:28}{r['rps']:>10.0f}{r['p50']:>9.3f}{r['p99']:>9.3f}"
                      f"{r['cpu_us']:>9.2f}")
        mean = {k: sum(r["cpu_us"] for r in v) / len(v) for k, v in results.items()}
        rps = {k: sum(r["rps"] for r in v) / len(v) for k, v in results.items()}
        print(f"    B - A: {mean['rules'] - mean['plain']:+.2f} us of server CPU per redirect; "
              f"req/s ratio B / A {rps['rules'] / rps['plain']:.2f}")

        print(f"\n2. creates: links per second, wrk -t1 -c8 -d{args.duration}s")
        env = {"KURZ_BENCH_KEY": run.KEY, "KURZ_BENCH_TAG": "single"}
        single = run.run_wrk(kurz.url, os.path.join(HERE, "create.lua"), 8, args.duration,
                             kurz.proc.pid, env=env)
        env = {"KURZ_BENCH_KEY": run.KEY, "KURZ_BENCH_TAG": "bulk",
               "KURZ_BENCH_BATCH": str(args.batch)}
        bulk = run.run_wrk(kurz.url, os.path.join(HERE, "bulk_create.lua"), 8, args.duration,
                           kurz.proc.pid, env=env)
        print(f"    POST /v1/urls, one link each:       {single['rps']:>9.0f} links/s "
              f"(p50 {single['p50']:.2f} ms)")
        print(f"    POST /v1/urls/bulk, {args.batch} links each: {bulk['rps'] * args.batch:>9.0f} links/s "
              f"({bulk['rps']:.0f} requests/s, p50 {bulk['p50']:.2f} ms)")
    finally:
        kurz.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
