#!/usr/bin/env python3
"""kurz click-pipeline benchmark: redirects publishing to Kafka, and `kurz worker` draining them.

What it does, in order (kurz on the test PostgreSQL and Redis of scripts/services, as
`bench/run.py --cluster`; ClickHouse from scripts/services/clickhouse; Kafka is librdkafka's mock
cluster, `kurz_kafka_mock --brokers 3 --partitions 12`, a fresh one for each table):
  0. creates N links (default 20,000) with wrk and bench/create.lua, in a schema of its own;
  1. redirect req/s with the Kafka producer on vs the embedded queue: `kurz serve --events
     memory://` (clicks aggregated in process, stored in PostgreSQL) against `kurz serve --events
     kafka://…` with one `kurz worker` consuming; a warm-up run each, then A B A B of
     `wrk -t1 -c64 -d10s --latency -s bench/redirect.lua`; req/s, p50, p99 and the serve process
     tree's CPU microseconds per request (utime+stime from /proc, read once the run's clicks are
     stored: for A the in-process drain is empty, for B every event is acknowledged by Kafka and
     stored by the worker; the worker's own CPU per request is shown apart);
  2. end-to-end events/s: with no worker running, wrk drives redirects at full speed for
     --backlog seconds, so the topic holds M events (M = kurz_events_delivered_total once
     published == delivered); then ONE `kurz worker` (--flush-interval-ms 1000) starts on that
     backlog and /metrics is polled every 100 ms until kurz_worker_clicks_stored_total == M:
     events/s from its first stored window to the end, and from the process's start (start-up
     and group join included); ClickHouse count() and PostgreSQL's daily_stats are checked
     against M. Then the same backlog again with TWO workers in a new group. The worker's CPU per
     thread, ClickHouse's, PostgreSQL's and the whole machine's during the drain show where the
     time goes;
  3. worker lag under a sustained rate (default 20,000 redirects/s): serve (kafka) + one worker,
     bench/redirect_paced.lua (redirect.lua with wrk's delay() hook) calibrated with short runs,
     then --paced seconds with kurz_worker_lag_messages sampled every 250 ms (the worker updates
     it about once a second; it includes the window not stored yet, up to a second of clicks);
     lag p50 / p99 / max, and how long after the traffic stops until stored == delivered.

Everything — wrk, serve, the mock cluster, the worker(s), ClickHouse, PostgreSQL and Redis —
shares this machine's cores: figures are for comparing configurations in one run, not absolute
capacity.

Usage: bench/pipeline.py [--links N] [--duration S] [--backlog S] [--paced S] [--rate R]
                         [--kurz PATH] [--mock PATH] [--keep]
Needs: wrk (scripts/install-deps --bench), the services' servers (scripts/install-deps --test)
and the bench build: cmake --preset bench && cmake --build --preset bench -j2
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (KEY, ROOT, Kurz, count_links, die, fmt, free_port, list_codes,  # noqa: E402
                 parse_wrk, run_wrk, thread_cpu, tree_cpu_seconds)

SERVICES = os.path.join(ROOT, "scripts", "services")
LUA = os.path.join(ROOT, "bench")
TICKS = os.sysconf("SC_CLK_TCK")


def metrics(url):
    """Every sample of a /metrics page without labels, as floats."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as r:
        text = r.read().decode()
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^([a-z_]+) (\S+)$", text, re.M)}


def service_url(name):
    subprocess.run([os.path.join(SERVICES, name), "start"], check=True, stdout=subprocess.DEVNULL)
    return subprocess.run([os.path.join(SERVICES, name), "url"], check=True, capture_output=True,
                          text=True).stdout.strip()


def pid_file(path):
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def machine_busy_seconds():
    """CPU seconds all cores spent not idle (from /proc/stat), and the number of cores."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / TICKS


class Procs:
    """Every process this run starts, stopped in reverse order (SIGTERM, then wait)."""

    def __init__(self):
        self.procs = []

    def add(self, proc):
        self.procs.append(proc)
        return proc

    def stop(self, proc, timeout=30):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self):
        for proc in reversed(list(self.procs)):
            self.stop(proc)


class Mock:
    """kurz_kafka_mock: 3 brokers, topic click-events with 12 partitions."""

    def __init__(self, binary, work, procs, name):
        path = os.path.join(work, f"{name}.bootstrap")
        self.log = open(os.path.join(work, f"{name}.log"), "w")
        self.proc = procs.add(subprocess.Popen(
            [binary, "--brokers", "3", "--partitions", "12", "--topic", "click-events",
             "--bootstrap-file", path], stdout=subprocess.PIPE, stderr=self.log, text=True))
        self.bootstraps = self.proc.stdout.readline().strip()
        if not self.bootstraps:
            die(f"kurz_kafka_mock did not start (see {work}/{name}.log)")
        self.url = f"kafka://{self.bootstraps}/click-events"


class Serve(Kurz):
    """kurz serve (run.py's Kurz) with a data directory of its own, and a settle() that fits
    its --events: the in-process drain empty, or every event acknowledged by Kafka and (when a
    worker runs) stored by it."""

    def __init__(self, binary, data, procs, extra, worker=None):
        os.makedirs(data, exist_ok=True)
        super().__init__(binary, data, 0, extra=extra)
        procs.add(self.proc)
        self.kafka = any(a.startswith("kafka://") for a in extra)
        self.worker = worker

    def settle(self, timeout=60):
        if not self.kafka:
            return super().settle(timeout)
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = metrics(self.url)
            published = m.get("kurz_events_published_total", 0)
            delivered = m.get("kurz_events_delivered_total", 0)
            if published == delivered and (
                    self.worker is None or self.worker.stored() >= delivered):
                return
            time.sleep(0.1)
        print(f"  (serve {self.url}: not settled after {timeout} s)", file=sys.stderr)


class Worker:
    def __init__(self, binary, work, procs, name, events, group, analytics, database, cache,
                 namespace, flush_ms=1000):
        self.port = free_port()
        self.log_path = os.path.join(work, f"{name}.log")
        self.log = open(self.log_path, "a")
        self.started = time.time()
        self.proc = procs.add(subprocess.Popen(
            [binary, "worker", "--events", events, "--group", group, "--analytics", analytics,
             "--database", database, "--cache", cache, "--cache-namespace", namespace,
             "--listen", f"127.0.0.1:{self.port}", "--flush-interval-ms", str(flush_ms)],
            stdout=subprocess.PIPE, stderr=self.log, text=True))
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            die(f"kurz worker did not start: {line!r} (see {self.log_path})")
        self.url = f"http://127.0.0.1:{self.port}"

    def metrics(self):
        return metrics(self.url)

    def stored(self):
        return self.metrics().get("kurz_worker_clicks_stored_total", 0)


def psql(pg, sql):
    return subprocess.run(["psql", pg, "-qAt", "-c", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def clickhouse(sql):
    req = urllib.request.Request("http://127.0.0.1:18123/", data=sql.encode(), method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode().strip()


def start_wrk(url, script, connections, duration, env):
    return subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
                             "-s", script, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **env})


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def server_pids():
    """ClickHouse's and PostgreSQL's (postmaster) pids, from the services' pid files."""
    return {"clickhouse": pid_file("/tmp/kurz-test-clickhouse/clickhouse.pid"),
            "postgres": pid_file(os.environ.get("KURZ_TEST_PG_DIR", "/tmp/kurz-test-pg")
                                 + "/data/postmaster.pid"),
            "redis": pid_file(os.environ.get("KURZ_TEST_REDIS_DIR", "/tmp/kurz-test-redis")
                              + "/single/redis.pid")}


def cpu_snapshot(pids):
    snap = {name: tree_cpu_seconds(pid) for name, pid in pids.items() if pid}
    snap["machine"] = machine_busy_seconds()
    return snap


def table1(args, ctx, codes_env):
    procs, work = ctx["procs"], ctx["work"]
    mock = Mock(args.mock, work, procs, "mock-t1")
    db = ctx["analytics_base"] + "_t1"
    ctx["ch_dbs"].append(db)
    worker = Worker(args.kurz, work, procs, "worker-t1", mock.url, "bench-t1",
                    f"clickhouse://127.0.0.1:18123/{db}", ctx["db"], ctx["redis"], ctx["ns"])
    a = Serve(args.kurz, os.path.join(work, "serve-memory"), procs, ctx["serve_extra"])
    b = Serve(args.kurz, os.path.join(work, "serve-kafka"), procs,
              ctx["serve_extra"] + ["--events", mock.url], worker)
    configs = (("A  --events memory://", a), ("B  --events kafka:// + worker", b))
    redirect = f"{LUA}/redirect.lua"
    for _, s in configs:  # warm-up: L1 filled, the producer connected
        run_wrk(s.url, redirect, 64, 5, s.proc.pid, codes_env, s.settle)
    rows = []
    for _ in range(args.rounds):
        for label, s in configs:
            w0 = tree_cpu_seconds(worker.proc.pid)
            r = run_wrk(s.url, redirect, 64, args.duration, s.proc.pid, codes_env, s.settle)
            r["worker_us"] = (tree_cpu_seconds(worker.proc.pid) - w0) * 1e6 / max(r["requests"], 1)
            rows.append((label, r))
    events = metrics(b.url)
    wm = worker.metrics()
    for s in (a, b):
        procs.stop(s.proc)
    procs.stop(worker.proc)
    procs.stop(mock.proc)

    print("\n1. redirects with the Kafka producer on vs the embedded queue "
          f"(random codes over {ctx['links']} links, wrk -t1 -c64 -d{args.duration}s, A B A B)")
    print(f"{'config':<32} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'cpu us':>8} "
          f"{'worker us':>9}   serve's threads, us/request")
    for label, r in rows:
        worker_us = f"{r['worker_us']:>9.2f}" if label.startswith("B") else f"{'':>9}"
        print(f"{label:<32} {fmt(r)} {worker_us}   " + threads_text(r["threads_us"], 1))
    avg = lambda key, p: statistics.mean(r[key] for l, r in rows if l.startswith(p))  # noqa: E731
    print(f"{'ratio B / A':<32} {avg('rps', 'B') / avg('rps', 'A'):>10.2f} "
          f"{avg('p50', 'B') / avg('p50', 'A'):>8.2f} {avg('p99', 'B') / avg('p99', 'A'):>8.2f} "
          f"{avg('cpu_us', 'B') / avg('cpu_us', 'A'):>8.2f}")
    print(f"  B's serve: published {events.get('kurz_events_published_total', 0):.0f}, "
          f"delivered {events.get('kurz_events_delivered_total', 0):.0f}, "
          f"spooled {events.get('kurz_events_spooled_total', 0):.0f}, "
          f"dropped {events.get('kurz_events_dropped_total', 0):.0f}; worker stored "
          f"{wm.get('kurz_worker_clicks_stored_total', 0):.0f} of "
          f"{wm.get('kurz_worker_messages_consumed_total', 0):.0f} consumed, "
          f"{wm.get('kurz_worker_store_errors_total', 0):.0f} store errors")


def threads_text(per_thread, divisor):
    """'name value, …' by descending value; numbered threads (kurz-loop-0, rdk:broker1) summed."""
    summed = {}
    for name, v in per_thread.items():
        key = re.sub(r"-?\d+$", "*", name)
        summed[key] = summed.get(key, 0) + v / divisor
    return "[" + ", ".join(f"{k} {v:.2f}" for k, v in sorted(summed.items(), key=lambda kv: -kv[1])
                           if v >= 0.005) + "]"


def thread_delta(before, after):
    return {name: after[name] - before.get(name, 0) for name in after}


def drain(args, ctx, mock, m_total, label, n_workers, group):
    """Starts n_workers (a new group) on the backlog, polls until they stored m_total; returns
    the figures of the drain."""
    procs, work = ctx["procs"], ctx["work"]
    db = f"{ctx['analytics_base']}_{group.replace('-', '_')}"
    ctx["ch_dbs"].append(db)
    pids = server_pids()
    pg_before = daily_sum(ctx)
    snap0 = cpu_snapshot(pids)
    t_spawn = time.time()
    workers = [Worker(args.kurz, work, procs, f"worker-{group}-{i}", mock.url, group,
                      f"clickhouse://127.0.0.1:18123/{db}", ctx["db"], ctx["redis"], ctx["ns"])
               for i in range(n_workers)]
    t_listening = time.time()
    perf = None
    if args.perf and n_workers == 1:
        perf = procs.add(subprocess.Popen(
            ["perf", "record", "-F", "499", "-g", "-o", args.perf, "-p",
             str(workers[0].proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    threads0 = [thread_cpu(w.proc.pid) for w in workers]
    wcpu0 = [tree_cpu_seconds(w.proc.pid) for w in workers]
    t_read = t_first = first_stored = None
    deadline = time.time() + max(120, m_total / 5000)
    stored = 0
    samples = []
    while time.time() < deadline:
        ms = [w.metrics() for w in workers]
        now = time.time()
        stored = sum(m.get("kurz_worker_clicks_stored_total", 0) for m in ms)
        consumed = sum(m.get("kurz_worker_messages_consumed_total", 0) for m in ms)
        samples.append((now, stored))
        if consumed > 0 and t_read is None:
            t_read = now
        if stored > 0 and t_first is None:
            t_first, first_stored = now, stored
        if stored >= m_total:
            break
        time.sleep(0.1)
    t_end = time.time()
    snap1 = cpu_snapshot(pids)
    threads1 = [thread_cpu(w.proc.pid) for w in workers]
    wcpu1 = [tree_cpu_seconds(w.proc.pid) for w in workers]
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=60)
        procs.procs.remove(perf)
    wm = [w.metrics() for w in workers]
    ch_count = int(clickhouse(f"SELECT count() FROM {db}.clicks"))
    pg_delta = daily_sum(ctx) - pg_before
    for w in workers:
        procs.stop(w.proc)
    tail = [(t, s) for t, s in samples if t_first and t >= t_first]
    peak = 0.0  # the best 2-second stretch
    for i, (t, s) in enumerate(tail):
        for t2, s2 in tail[i + 1:]:
            if t2 - t >= 2:
                peak = max(peak, (s2 - s) / (t2 - t))
                break
    threads = {}
    for t0, t1 in zip(threads0, threads1):
        for name, v in thread_delta(t0, t1).items():
            threads[name] = threads.get(name, 0) + v
    elapsed = t_end - t_spawn
    return {
        "label": label, "workers": n_workers, "stored": stored, "done": stored >= m_total,
        "start_s": t_listening - t_spawn, "read_s": (t_read - t_spawn) if t_read else None,
        "first_s": (t_first - t_spawn) if t_first else None,
        "first_stored": first_stored, "elapsed": elapsed,
        "rate_first": m_total / (t_end - t_first) if t_first and t_end > t_first else 0,
        "rate_steady": (stored - first_stored) / (t_end - t_first)
        if t_first and t_end > t_first else 0,
        "rate_all": stored / elapsed, "peak": peak,
        "ch": ch_count, "pg": pg_delta,
        "windows": sum(m.get("kurz_worker_windows_stored_total", 0) for m in wm),
        "errors": sum(m.get("kurz_worker_store_errors_total", 0) for m in wm),
        "conflicts": sum(m.get("kurz_worker_conflicts_total", 0) for m in wm),
        "duplicates": sum(m.get("kurz_worker_duplicates_total", 0) for m in wm),
        "partitions": [m.get("kurz_worker_partitions", 0) for m in wm],
        "worker_cpu": sum(b - a for a, b in zip(wcpu0, wcpu1)),
        "threads": threads,
        "servers": {k: snap1[k] - snap0[k] for k in snap1},
    }


def daily_sum(ctx):
    return int(psql(ctx["db_psql"], f"SELECT coalesce(sum(click_count + bot_clicks), 0) "
                                    f"FROM {ctx['schema']}.daily_stats"))


def table2(args, ctx, codes_env):
    procs, work = ctx["procs"], ctx["work"]
    mock = Mock(args.mock, work, procs, "mock-t2")
    s = Serve(args.kurz, os.path.join(work, "serve-kafka-t2"), procs,
              ctx["serve_extra"] + ["--events", mock.url])
    run_wrk(s.url, f"{LUA}/redirect.lua", 64, 3, s.proc.pid, codes_env, s.settle)  # warm-up
    d0 = metrics(s.url)["kurz_events_delivered_total"]
    t0 = time.time()
    r = run_wrk(s.url, f"{LUA}/redirect.lua", 64, args.backlog, s.proc.pid, codes_env, s.settle)
    wall = time.time() - t0
    m = metrics(s.url)
    m_total = int(m["kurz_events_delivered_total"])
    produced = m_total - d0
    procs.stop(s.proc)

    print("\n2. end-to-end events/s: producer → mock cluster (3 brokers, 12 partitions) → "
          "worker → ClickHouse + PostgreSQL (+ Redis counters)")
    print(f"  (i) backlog, no worker running: wrk -c64 -d{args.backlog}s at full speed: "
          f"{r['rps']:,.0f} req/s (p50 {r['p50']:.3f} ms, p99 {r['p99']:.3f} ms), "
          f"{produced:,.0f} events delivered in {wall:.1f} s (until published == delivered) → "
          f"producer {produced / wall:,.0f} events/s; serve CPU {r['cpu_us']:.2f} us/request "
          + threads_text(r["threads_us"], 1))
    print(f"      the topic holds M = {m_total:,} events (warm-up included); published "
          f"{m['kurz_events_published_total']:.0f}, delivered "
          f"{m['kurz_events_delivered_total']:.0f}, spooled {m['kurz_events_spooled_total']:.0f}, "
          f"dropped {m['kurz_events_dropped_total']:.0f}")
    results = [drain(args, ctx, mock, m_total, "(ii) one worker", 1, "bench-t2-one")]
    if not args.no_two:
        results.append(drain(args, ctx, mock, m_total, "(iii) two workers", 2, "bench-t2-two"))
    procs.stop(mock.proc)
    print(f"  {'drain of the backlog':<20} {'ev/s 1st→end':>12} {'steady':>8} {'peak 2s':>8} "
          f"{'w/ start':>8} {'total s':>7} {'listen':>6} {'1st read':>8} {'1st store':>9}  checks")
    for d in results:
        ok_ch = "ok" if d["ch"] >= m_total else "SHORT"
        ok_pg = "ok" if d["pg"] == m_total else "MISMATCH"
        sec = lambda v: f"{v:.2f}" if v is not None else "never"  # noqa: E731
        print(f"  {d['label']:<20} {d['rate_first']:>12,.0f} {d['rate_steady']:>8,.0f} "
              f"{d['peak']:>8,.0f} {d['rate_all']:>8,.0f} {d['elapsed']:>7.2f} "
              f"{sec(d['start_s']):>6} {sec(d['read_s']):>8} {sec(d['first_s']):>9}  "
              f"stored {d['stored']:,.0f}/{m_total:,}{'' if d['done'] else ' (TIMED OUT)'}, "
              f"ClickHouse count() {d['ch']:,} {ok_ch}, daily_stats sum {d['pg']:,} {ok_pg}")
    print("      ev/s 1st→end = M / (time from the first stored window to stored == M), as asked; "
          "steady = the same without the\n      first window's clicks; peak 2s = best 2 s; "
          "w/ start = M / (time from the worker's spawn: start-up, group join, first window);\n"
          "      listen / 1st read / 1st store = seconds after the spawn until it listened, "
          "read its first message, stored its first window")
    for d in results:
        n = max(d["stored"], 1)
        sv = ", ".join(f"{k} {v * 1e6 / n:.2f}" for k, v in d["servers"].items())
        print(f"  {d['label']}: partitions {'/'.join(str(int(p)) for p in d['partitions'])}; "
              f"{d['windows']:.0f} windows (~{d['stored'] / max(d['windows'], 1):,.0f} clicks "
              f"each), {d['errors']:.0f} store errors, {d['conflicts']:.0f} conflicts, "
              f"{d['duplicates']:.0f} duplicates")
        print(f"      CPU us/event, worker: {d['worker_cpu'] * 1e6 / n:.2f} "
              + threads_text(d["threads"], n / 1e6))
        print(f"      CPU us/event, others during the drain: {sv} (machine = every process; "
              f"{d['servers']['machine'] / d['elapsed'] * 100 / os.cpu_count():.0f}% of "
              f"{os.cpu_count()} cores busy over {d['elapsed']:.1f} s)")
    if args.perf:
        print(f"  perf profile of the one-worker drain: {args.perf} (perf report -i {args.perf})")


def table3(args, ctx, codes_env):
    procs, work = ctx["procs"], ctx["work"]
    mock = Mock(args.mock, work, procs, "mock-t3")
    db = ctx["analytics_base"] + "_t3"
    ctx["ch_dbs"].append(db)
    worker = Worker(args.kurz, work, procs, "worker-t3", mock.url, "bench-t3",
                    f"clickhouse://127.0.0.1:18123/{db}", ctx["db"], ctx["redis"], ctx["ns"])
    s = Serve(args.kurz, os.path.join(work, "serve-kafka-t3"), procs,
              ctx["serve_extra"] + ["--events", mock.url], worker)
    paced = f"{LUA}/redirect_paced.lua"
    run_wrk(s.url, f"{LUA}/redirect.lua", 64, 3, s.proc.pid, codes_env, s.settle)  # warm-up
    # Calibration, 4 s runs: rate = C / (delay + overhead), overhead = response time and wrk's
    # timer slack, measured at each step; more connections when the delay would get below 1 ms.
    conns, delay = 40, 2.0
    calib = []
    for _ in range(args.calibrate):
        env = {**codes_env, "KURZ_BENCH_DELAY_MS": f"{delay:.3f}"}
        r = run_wrk(s.url, paced, conns, 4, s.proc.pid, env)
        calib.append((conns, delay, r["rps"]))
        if abs(r["rps"] - args.rate) / args.rate < 0.03:
            break
        overhead = max(0.05, conns / r["rps"] * 1000 - delay)
        want = conns / args.rate * 1000 - overhead
        if want < 1.0:
            conns = int(args.rate * (overhead + 1.5) / 1000) + 1
            want = conns / args.rate * 1000 - overhead
        delay = want
    else:
        # No step was within 3 %: the closest one measured.
        conns, delay, _ = min(calib, key=lambda c: abs(c[2] - args.rate))
    s.settle()
    env = {**codes_env, "KURZ_BENCH_DELAY_MS": f"{delay:.3f}"}
    m0 = metrics(s.url)
    stored0 = worker.stored()
    cpu0 = {"serve": tree_cpu_seconds(s.proc.pid), "worker": tree_cpu_seconds(worker.proc.pid),
            "machine": machine_busy_seconds()}
    th0 = {"serve": thread_cpu(s.proc.pid), "worker": thread_cpu(worker.proc.pid)}
    wrk = procs.add(start_wrk(s.url, paced, conns, args.paced, env))
    lags, t0 = [], time.time()
    while wrk.poll() is None:
        try:
            lags.append(worker.metrics().get("kurz_worker_lag_messages", 0))
        except OSError:
            pass
        time.sleep(0.25)
    out = wrk.stdout.read()
    procs.procs.remove(wrk)
    t_stop = time.time()
    r = parse_wrk(out)
    caught_up = None  # until every event of the run is acknowledged and stored
    while time.time() - t_stop < 120:
        m = metrics(s.url)
        if (m["kurz_events_published_total"] == m["kurz_events_delivered_total"]
                and worker.stored() >= m["kurz_events_delivered_total"]):
            caught_up = time.time() - t_stop
            break
        time.sleep(0.1)
    t_end = time.time()
    cpu1 = {"serve": tree_cpu_seconds(s.proc.pid), "worker": tree_cpu_seconds(worker.proc.pid),
            "machine": machine_busy_seconds()}
    th1 = {"serve": thread_cpu(s.proc.pid), "worker": thread_cpu(worker.proc.pid)}
    m1 = metrics(s.url)
    wm = worker.metrics()
    procs.stop(s.proc)
    procs.stop(worker.proc)
    procs.stop(mock.proc)

    print(f"\n3. worker lag under a sustained {args.rate:,} redirects/s "
          f"(bench/redirect_paced.lua, one worker, --flush-interval-ms 1000)")
    print("  calibration, 4 s each: " + "; ".join(f"-c{c} delay {d:.2f} ms → {x:,.0f} req/s"
                                                  for c, d, x in calib))
    delivered = m1["kurz_events_delivered_total"] - m0["kurz_events_delivered_total"]
    stored = wm.get("kurz_worker_clicks_stored_total", 0) - stored0
    print(f"  run: wrk -t1 -c{conns} -d{args.paced}s, delay {delay:.2f} ms: {r['rps']:,.0f} req/s "
          f"achieved (p50 {r['p50']:.3f} ms, p99 {r['p99']:.3f} ms"
          + (f", non-3xx {r['non2xx']}" if r["non2xx"] else "") + f"); {delivered:,.0f} events "
          f"delivered, {stored:,.0f} stored")
    print(f"  lag (kurz_worker_lag_messages, {len(lags)} samples every 250 ms): "
          f"p50 {quantile(lags, 0.5):,.0f}, p99 {quantile(lags, 0.99):,.0f}, "
          f"max {max(lags) if lags else float('nan'):,.0f} messages "
          f"(p50 ≈ {quantile(lags, 0.5) / max(r['rps'], 1) * 1000:.0f} ms of traffic)")
    print("  after the traffic stops, stored == delivered in "
          + (f"{caught_up:.2f} s" if caught_up is not None else "NEVER (waited 120 s)"))
    n = max(r["requests"], 1)
    print(f"  CPU us/request, run and catch-up: serve {(cpu1['serve'] - cpu0['serve']) * 1e6 / n:.2f} "
          + threads_text(thread_delta(th0["serve"], th1["serve"]), n / 1e6))
    print(f"                                    worker "
          f"{(cpu1['worker'] - cpu0['worker']) * 1e6 / n:.2f} "
          + threads_text(thread_delta(th0["worker"], th1["worker"]), n / 1e6))
    print(f"  machine {(cpu1['machine'] - cpu0['machine']) / (t_end - t0) * 100 / os.cpu_count():.0f}"
          f"% busy; serve spooled {m1['kurz_events_spooled_total']:.0f}, dropped "
          f"{m1['kurz_events_dropped_total']:.0f}; worker store errors "
          f"{wm.get('kurz_worker_store_errors_total', 0):.0f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--links", type=int, default=20_000)
    ap.add_argument("--duration", type=int, default=10, help="seconds of each table-1 run")
    ap.add_argument("--rounds", type=int, default=2, help="A B pairs in table 1")
    ap.add_argument("--backlog", type=int, default=15, help="seconds of redirects for table 2")
    ap.add_argument("--paced", type=int, default=30, help="seconds of the paced run (table 3)")
    ap.add_argument("--rate", type=int, default=20_000, help="target redirects/s of table 3")
    ap.add_argument("--calibrate", type=int, default=4,
                    help="4-second calibration runs at most, for table 3")
    ap.add_argument("--no-two", action="store_true", help="skip the two-worker drain")
    ap.add_argument("--perf", metavar="FILE",
                    help="perf record -g the one-worker drain of table 2 into FILE")
    ap.add_argument("--tables", default="123", help="which tables to run (e.g. 23)")
    ap.add_argument("--kurz", default=os.path.join(ROOT, "build/bench/src/app/kurz"))
    ap.add_argument("--mock", default=os.path.join(
        ROOT, "build/bench/tools/kafka_mock/kurz_kafka_mock"))
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (logs), the schema and the databases")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        die("wrk is not installed (scripts/install-deps --bench)")
    for path in (args.kurz, args.mock):
        if not os.access(path, os.X_OK):
            die(f"no {path} (cmake --preset bench && cmake --build --preset bench -j2)")

    pg = service_url("postgres")
    redis = service_url("redis")
    service_url("clickhouse")
    schema = f"bench_{os.getpid()}"
    work = tempfile.mkdtemp(prefix="kurz-pipeline-")
    procs = Procs()
    ctx = {"procs": procs, "work": work, "schema": schema, "ns": schema, "redis": redis,
           "db_psql": pg, "analytics_base": schema, "ch_dbs": []}
    ctx["db"] = pg + ("&" if "?" in pg else "?") + f"options=-csearch_path%3D{schema}"
    ctx["serve_extra"] = ["--database", ctx["db"], "--cache", redis, "--cache-namespace", schema]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()
    print(f"kurz click-pipeline benchmark — commit {commit}{' (+ local changes)' if dirty else ''}, "
          f"{os.cpu_count()} cores shared by everything (wrk, kurz serve, kurz_kafka_mock, kurz "
          f"worker, ClickHouse, PostgreSQL, Redis); load average before: "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"kurz {os.path.relpath(args.kurz, ROOT)}, mock {os.path.relpath(args.mock, ROOT)}; "
          f"ClickHouse {clickhouse('SELECT version()')}, "
          f"{psql(pg, 'SHOW server_version').split()[0]} PostgreSQL, schema {schema}")
    try:
        psql(pg, f"CREATE SCHEMA {schema}")
        # Links: created through the API with wrk, as run.py --cluster does.
        creator = Serve(args.kurz, os.path.join(work, "serve-create"), procs, ctx["serve_extra"])
        round_no, t0 = 0, time.time()
        while count_links(creator.url) < args.links:
            round_no += 1
            missing = args.links - count_links(creator.url)
            run_wrk(creator.url + "/v1/urls", f"{LUA}/create.lua", 64,
                    max(1, min(30, missing // 2000 + 1)), creator.proc.pid,
                    {"KURZ_BENCH_KEY": KEY, "KURZ_BENCH_TAG": f"fill{round_no}"})
        codes = list_codes(creator.url)
        procs.stop(creator.proc)
        ctx["links"] = len(codes)
        codes_file = os.path.join(work, "codes.txt")
        with open(codes_file, "w") as f:
            f.write("\n".join(c for c, _ in codes) + "\n")
        print(f"{len(codes)} links created in {time.time() - t0:.0f} s")
        codes_env = {"KURZ_BENCH_CODES": codes_file}
        if "1" in args.tables:
            table1(args, ctx, codes_env)
        if "2" in args.tables:
            table2(args, ctx, codes_env)
        if "3" in args.tables:
            table3(args, ctx, codes_env)
    finally:
        procs.stop_all()
        if not args.keep:
            subprocess.run(["psql", pg, "-q", "-c", "SET client_min_messages = warning",
                            "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE"])
            for db in ctx["ch_dbs"]:
                try:
                    clickhouse(f"DROP DATABASE IF EXISTS {db}")
                except OSError as e:
                    print(f"bench: DROP DATABASE {db}: {e}", file=sys.stderr)
            if shutil.which("redis-cli"):
                port = redis.rsplit(":", 1)[1].split("/")[0]
                keys = subprocess.run(["redis-cli", "-p", port, "--scan", "--pattern",
                                       f"{schema}*"], capture_output=True, text=True).stdout.split()
                for i in range(0, len(keys), 500):
                    subprocess.run(["redis-cli", "-p", port, "DEL", *keys[i:i + 500]],
                                   stdout=subprocess.DEVNULL)
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"\nkept: {work}, schema {schema}, ClickHouse databases {', '.join(ctx['ch_dbs'])}")


if __name__ == "__main__":
    main()
