#!/usr/bin/env python3
"""kurz benchmark harness: kurz against nginx answering the same redirects, in the same run.

What it does, in order:
  1. starts kurz (embedded SQLite) with the API rate limit off;
  2. measures link creation with wrk (POST /v1/urls, unique URLs) at 8 and 64 connections,
     and keeps creating until N links exist (default 100,000);
  3. writes an nginx config with a `map` of the same codes and `return 301`;
  4. alternates A B A B: `wrk -t1 -c64 -d10s --latency` with a Lua script picking random codes,
     against kurz and against nginx, for kurz --threads 1 vs nginx 1 worker, and kurz's default
     threads vs nginx `worker_processes auto`;
  5. prints req/s, p50, p99, server CPU microseconds per request (utime+stime of the server's
     process tree from /proc, divided by requests) and the kurz/nginx ratios.

wrk runs on the same machine and shares its cores: figures are for comparing servers in one
run, not absolute capacity.

Usage: bench/run.py [--links N] [--duration S] [--rounds R] [--kurz PATH] [--against PATH]
With --against, step 4 alternates this kurz and another kurz binary instead of nginx.
Needs: wrk, nginx (scripts/install-deps --bench) and a release build of kurz.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "kz_bench_admin_key_0123456789abcdef"
TICKS = os.sysconf("SC_CLK_TCK")


def die(msg):
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(1)


def free_port():
    """A free port below the ephemeral range (32768+), where wrk's client sockets in TIME_WAIT
    could otherwise make a server's bind fail."""
    import random
    import socket
    for _ in range(200):
        port = random.randint(20000, 29999)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    die("no free port in 20000-29999")


def tree_cpu_seconds(root_pid):
    """utime+stime of root_pid and all its descendants (threads are included by /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
        stack.extend(children.get(pid, []))
    return total / TICKS


def thread_cpu(pid):
    """CPU seconds per thread name of one process."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / TICKS
        except OSError:
            continue
    return out


def parse_wrk(out):
    def latency_ms(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests": reqs, "rps": rps, "p50": latency_ms("50%"), "p99": latency_ms("99%"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else ""}


def clicks_pending(base):
    with urllib.request.urlopen(f"{base}/metrics") as r:
        text = r.read().decode()
    m = re.search(r"^kurz_click_events_pending (\S+)", text, re.M)
    q = re.search(r"^kurz_click_queue_depth (\S+)", text, re.M)
    return (float(m.group(1)) if m else 0) + (float(q.group(1)) if q else 0)


def run_wrk(url, script, connections, duration, pid, env=None, settle=None):
    """Runs wrk; CPU is read after `settle()` returns, so that work the server does after the
    last response because of the run (storing its clicks) is counted in the run."""
    cpu0 = tree_cpu_seconds(pid)
    threads0 = thread_cpu(pid)
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
                          "-s", script, url], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, check=True).stdout
    if settle:
        settle()
    cpu1 = tree_cpu_seconds(pid)
    threads1 = thread_cpu(pid)
    r = parse_wrk(out)
    r["cpu_us"] = (cpu1 - cpu0) * 1e6 / max(r["requests"], 1)
    r["threads_us"] = {name: (threads1[name] - threads0.get(name, 0)) * 1e6 / max(r["requests"], 1)
                       for name in threads1 if threads1[name] - threads0.get(name, 0) > 0}
    return r


class Kurz:
    def __init__(self, binary, data, threads, cache_size=None, extra=()):
        self.port = free_port()
        args = [binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data", data,
                "--bootstrap-key", KEY, "--rate-limit-api", "0", *extra]
        if threads:
            args += ["--threads", str(threads)]
        if cache_size is not None:
            args += ["--cache-size", str(cache_size)]
        self.log = open(os.path.join(data, "kurz.log"), "a")
        os.makedirs(data, exist_ok=True)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            die(f"kurz did not start: {line!r}")
        self.url = f"http://127.0.0.1:{self.port}"

    def settle(self, timeout=20):
        """Waits until every click of the run is stored (the drain's window closes within 10 s)."""
        deadline = time.time() + timeout
        while time.time() < deadline and clicks_pending(self.url) > 0:
            time.sleep(0.2)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def list_codes(base):
    codes, cursor = [], None
    while True:
        q = "limit=1000" + (f"&cursor={cursor}" if cursor else "")
        req = urllib.request.Request(f"{base}/v1/urls?{q}", headers={"Authorization": f"Bearer {KEY}"})
        body = json.load(urllib.request.urlopen(req))
        codes += [(i["code"], i["url"]) for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return codes


def count_links(base):
    with urllib.request.urlopen(f"{base}/metrics") as r:
        text = r.read().decode()
    m = re.search(r'kurz_http_requests_total\{route="/v1/urls",status="201"\} (\d+)', text)
    return int(m.group(1)) if m else 0


def start_nginx(workdir, codes, workers):
    prefix = os.path.join(workdir, f"nginx-{workers}")
    os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
    port = free_port()
    with open(os.path.join(prefix, "map.conf"), "w") as f:
        for code, url in codes:
            f.write(f'/{code} "{url}";\n')
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  map_hash_max_size 4194304;
  map_hash_bucket_size 128;
  map $uri $target {{ default ""; include {prefix}/map.conf; }}
  server {{
    listen 127.0.0.1:{port} reuseport;
    location / {{
      if ($target = "") {{ return 404; }}
      return 301 $target;
    }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", prefix, "-c", conf],
                            stderr=open(os.path.join(prefix, "logs", "stderr.log"), "w"))
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nonexistent")
        except urllib.error.HTTPError:
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    die("nginx did not start: " + open(os.path.join(prefix, "logs", "stderr.log")).read())


DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def bulk_code(i):
    out = []
    for _ in range(7):
        i, d = divmod(i, 62)
        out.append(DIGITS[d])
    return "b" + "".join(reversed(out))


def bulk_load(db_path, n):
    """Writes n custom links (codes from bulk_code) straight into kurz's SQLite database, as
    user 1, in one transaction: loading millions through the API would take most of an hour."""
    import sqlite3
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now = int(time.time() * 1e6)
    rows = ((bulk_code(i), f"https://example.com/bulk/{i}", 1, now + i) for i in range(n))
    with con:
        con.executemany(
            "INSERT INTO urls (short_code, original_url, user_id, created_at, updated_at,"
            " is_custom, redirect_type) VALUES (?, ?, ?, ?, 0, 1, 301)", rows)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def fmt(r, threads=False):
    text = (f"{r['rps']:>10.0f} {r['p50']:>8.3f} {r['p99']:>8.3f} {r['cpu_us']:>8.2f}"
            + (f"  non-3xx={r['non2xx']}" if r["non2xx"] else ""))
    if threads and len(r["threads_us"]) > 1:
        text += "   [" + ", ".join(f"{n} {v:.2f}" for n, v in sorted(r["threads_us"].items())) + "]"
    return text


def cluster_main(args):
    """Cluster mode: kurz on PostgreSQL and Redis (the test servers of scripts/services, started
    here if they are not running), creates and redirects with L1 on and with L1 off (Redis the
    only cache). The servers' own CPU is not in kurz's figures."""
    services = os.path.join(ROOT, "scripts", "services")
    for name in ("postgres", "redis"):
        subprocess.run([os.path.join(services, name), "start"], check=True,
                       stdout=subprocess.DEVNULL)
    pg = subprocess.run([os.path.join(services, "postgres"), "url"], check=True,
                        capture_output=True, text=True).stdout.strip()
    redis = subprocess.run([os.path.join(services, "redis"), "url"], check=True,
                           capture_output=True, text=True).stdout.strip()
    schema = f"bench_{os.getpid()}"
    subprocess.run(["psql", pg, "-q", "-c", f"CREATE SCHEMA {schema}"], check=True)
    db = pg + ("&" if "?" in pg else "?") + f"options=-csearch_path%3D{schema}"
    extra = ["--database", db, "--cache", redis, "--cache-namespace", schema]
    work = tempfile.mkdtemp(prefix="kurz-bench-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    lua = os.path.join(ROOT, "bench")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    print(f"kurz cluster benchmark — commit {commit}, {os.cpu_count()} cores, PostgreSQL 15 + "
          f"Redis 7 on the same machine, {args.links} links, wrk -t1 -c64 -d{args.duration}s")
    try:
        kurz = Kurz(args.kurz, data, 0, extra=extra)
        print("\nlink creation on PostgreSQL (POST /v1/urls, unique URLs, committed before 201)")
        print(f"{'clients':>8} {'links/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'cpu us':>8}")
        for c in (8, 64):
            r = run_wrk(kurz.url + "/v1/urls", f"{lua}/create.lua", c, 5, kurz.proc.pid,
                        {"KURZ_BENCH_KEY": KEY, "KURZ_BENCH_TAG": f"c{c}"})
            print(f"{c:>8} {fmt(r, threads=True)}")
        round_no = 0
        while count_links(kurz.url) < args.links:
            round_no += 1
            run_wrk(kurz.url + "/v1/urls", f"{lua}/create.lua", 64, 5, kurz.proc.pid,
                    {"KURZ_BENCH_KEY": KEY, "KURZ_BENCH_TAG": f"fill{round_no}"})
        codes = list_codes(kurz.url)
        kurz.stop()
        codes_file = os.path.join(work, "codes.txt")
        with open(codes_file, "w") as f:
            f.write("\n".join(c for c, _ in codes) + "\n")
        env = {"KURZ_BENCH_CODES": codes_file}
        print(f"\nredirects, random codes over {len(codes)} links (GET /{{code}} → 301)")
        print(f"{'config':<34} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'cpu us':>8}")
        for label, size in (("L1 on (default), Redis L2", None), ("L1 off, Redis the only cache", 0)):
            kurz = Kurz(args.kurz, data, 0, size, extra=extra)
            run_wrk(kurz.url, f"{lua}/redirect.lua", 64, 5, kurz.proc.pid, env, kurz.settle)
            r = run_wrk(kurz.url, f"{lua}/redirect.lua", 64, args.duration, kurz.proc.pid, env,
                        kurz.settle)
            print(f"{label:<34} {fmt(r, threads=True)}")
            kurz.stop()
    finally:
        subprocess.run(["psql", pg, "-q", "-c", "SET client_min_messages = warning",
                        "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE"])
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--links", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2, help="A B pairs per configuration")
    ap.add_argument("--kurz", default=os.path.join(ROOT, "build/release/src/app/kurz"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--against", metavar="KURZ",
                    help="compare the cached redirects with another kurz binary (say, a build "
                         "of the previous commit) instead of nginx, A B A B on copies of the "
                         "same data")
    ap.add_argument("--bulk", type=int, default=0,
                    help="also write this many links straight into SQLite (e.g. 10000000) and "
                         "measure uniform random redirects over all of them")
    ap.add_argument("--miss-cache", type=int, default=10_000,
                    help="cache size for the miss-path run (0 skips it)")
    ap.add_argument("--cluster", action="store_true",
                    help="measure cluster mode instead: kurz on PostgreSQL + Redis (started "
                         "with scripts/services); use a smaller --links, e.g. 20000")
    args = ap.parse_args()
    if args.cluster:
        if not shutil.which("wrk"):
            die("wrk is not installed (scripts/install-deps --bench)")
        if not os.access(args.kurz, os.X_OK):
            die(f"no kurz binary at {args.kurz} (cmake --preset release && cmake --build --preset release)")
        cluster_main(args)
        return
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            die(f"{tool} is not installed (scripts/install-deps --bench)")
    if not os.access(args.kurz, os.X_OK):
        die(f"no kurz binary at {args.kurz} (cmake --preset release && cmake --build --preset release)")
    os.environ["PATH"] += ":/usr/sbin"

    work = tempfile.mkdtemp(prefix="kurz-bench-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    lua = os.path.join(ROOT, "bench")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    print(f"kurz benchmark — commit {commit}, {os.cpu_count()} cores, {args.links} links, "
          f"wrk -t1 -c64 -d{args.duration}s; wrk shares the machine with the server")

    # Creates. With --against the other (older) binary makes the links, so that both can open
    # the data: a newer kurz migrates its own copy forward, an older one cannot read a newer one.
    kurz = Kurz(args.against or args.kurz, data, 0)
    print("\nlink creation (POST /v1/urls, unique URLs, durable before 201)"
          + (f", by {args.against}" if args.against else ""))
    print(f"{'clients':>8} {'links/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'cpu us':>8}")
    for c in (8, 64):
        r = run_wrk(kurz.url + "/v1/urls", f"{lua}/create.lua", c, 5, kurz.proc.pid,
                    {"KURZ_BENCH_KEY": KEY, "KURZ_BENCH_TAG": f"c{c}"})
        print(f"{c:>8} {fmt(r, threads=True)}")
    round_no = 0
    while count_links(kurz.url) < args.links:
        round_no += 1
        missing = args.links - count_links(kurz.url)
        wrk_env = {"KURZ_BENCH_KEY": KEY, "KURZ_BENCH_TAG": f"fill{round_no}"}
        run_wrk(kurz.url + "/v1/urls", f"{lua}/create.lua", 64,
                max(1, min(60, missing // 5000 + 1)), kurz.proc.pid, wrk_env)
    codes = list_codes(kurz.url)
    kurz.stop()
    # nginx compares map keys case-insensitively: keep one code of each case-folded spelling,
    # and send both servers the same codes.
    seen = set()
    codes = [(c, u) for c, u in codes if not (c.lower() in seen or seen.add(c.lower()))]
    codes_file = os.path.join(work, "codes.txt")
    with open(codes_file, "w") as f:
        f.write("\n".join(c for c, _ in codes) + "\n")
    print(f"\n{len(codes)} links loaded (codes equal but for case dropped: nginx cannot tell them apart)")

    results = {}
    other = "before" if args.against else "nginx"
    if args.against:
        # The other kurz gets a copy of the data, so the two never share a database file.
        data_b = os.path.join(work, "data-before")
        shutil.copytree(data, data_b)
    for threads, workers, label in ((1, 1, "1 thread / 1 worker"), (0, "auto", "default threads / auto")):
        kurz = Kurz(args.kurz, data, threads)
        env = {"KURZ_BENCH_CODES": codes_file}
        # Warm-up: random picks for long enough that (nearly) every code has been read once
        # into kurz's cache (about five picks per code), and nginx's map.
        warm = max(3, 5 * len(codes) // 60_000)
        run_wrk(kurz.url, f"{lua}/redirect.lua", 64, warm, kurz.proc.pid, env, kurz.settle)
        if args.against:
            before = Kurz(args.against, data_b, threads)
            b_url, b_pid, b_settle = before.url, before.proc.pid, before.settle
            run_wrk(b_url, f"{lua}/redirect.lua", 64, warm, b_pid, env, b_settle)
        else:
            nginx, b_url = start_nginx(work, codes, workers)
            b_pid, b_settle = nginx.pid, None
            run_wrk(b_url, f"{lua}/redirect.lua", 64, 2, b_pid, env)
        rows = []
        for _ in range(args.rounds):
            rows.append(("kurz", run_wrk(kurz.url, f"{lua}/redirect.lua", 64, args.duration,
                                         kurz.proc.pid, env, kurz.settle)))
            rows.append((other, run_wrk(b_url, f"{lua}/redirect.lua", 64, args.duration,
                                        b_pid, env, b_settle)))
        kurz.stop()
        if args.against:
            before.stop()
        else:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=30)
        results[label] = rows

    miss = None
    if args.miss_cache:
        # Mostly L1 misses: a cache far smaller than the links, so most redirects read SQLite.
        kurz = Kurz(args.kurz, data, 0, args.miss_cache)
        env = {"KURZ_BENCH_CODES": codes_file}
        run_wrk(kurz.url, f"{lua}/redirect.lua", 64, 3, kurz.proc.pid, env, kurz.settle)
        miss = run_wrk(kurz.url, f"{lua}/redirect.lua", 64, args.duration, kurz.proc.pid, env,
                       kurz.settle)
        kurz.stop()

    print("\ncached redirects, random codes (GET /{code} → 301), A B A B")
    print(f"{'config':<28} {'server':<6} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'cpu us':>8}")
    for label, rows in results.items():
        for server, r in rows:
            print(f"{label:<28} {server:<6} {fmt(r, threads=server != 'nginx')}")
        k = [r for s, r in rows if s == "kurz"]
        n = [r for s, r in rows if s == other]
        avg = lambda xs, key: sum(x[key] for x in xs) / len(xs)
        print(f"{label:<28} {'ratio':<6} {avg(k, 'rps') / avg(n, 'rps'):>10.2f} "
              f"{avg(k, 'p50') / avg(n, 'p50'):>8.2f} {avg(k, 'p99') / avg(n, 'p99'):>8.2f} "
              f"{avg(k, 'cpu_us') / avg(n, 'cpu_us'):>8.2f}   (kurz / {other})")
    if miss:
        cached = [r for s_, r in results["default threads / auto"] if s_ == "kurz"]
        cached_rps = sum(r["rps"] for r in cached) / len(cached)
        print(f"\nmostly L1 misses (--cache-size {args.miss_cache} for {len(codes)} links, "
              f"default threads)")
        print(f"{'':<28} {'kurz':<6} {fmt(miss, threads=True)}")
        print(f"{'':<28} {'ratio':<6} {miss['rps'] / cached_rps:>10.2f}   (miss path / cached)")
    if args.bulk:
        t0 = time.time()
        bulk_load(os.path.join(data, "kurz.db"), args.bulk)
        print(f"\nuniform random over {args.bulk:,} more links (written to SQLite in "
              f"{time.time() - t0:.0f} s), default threads and cache size")
        kurz = Kurz(args.kurz, data, 0)
        env = {"KURZ_BENCH_BULK": str(args.bulk)}
        run_wrk(kurz.url, f"{lua}/bulk.lua", 64, 5, kurz.proc.pid, env, kurz.settle)
        bulk = run_wrk(kurz.url, f"{lua}/bulk.lua", 64, args.duration, kurz.proc.pid, env,
                       kurz.settle)
        kurz.stop()
        cached = [r for s_, r in results["default threads / auto"] if s_ == "kurz"]
        cached_rps = sum(r["rps"] for r in cached) / len(cached)
        print(f"{'':<28} {'kurz':<6} {fmt(bulk, threads=True)}")
        print(f"{'':<28} {'ratio':<6} {bulk['rps'] / cached_rps:>10.2f}   (uniform over all / cached)")
    if args.keep:
        print(f"\nfiles kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
