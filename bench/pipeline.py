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
     --backlog seconds (15), or until --max-backlog events (700,000) are published: the mock
     keeps 5 MB of batches per partition and deletes older ones, which a worker would then never
     see; M = kurz_events_delivered_total once published == delivered; the producer rate is
     delivered / wall time. Then ONE `kurz worker` (--flush-interval-ms 1000) starts on that
     backlog and /metrics is polled every 100 ms until kurz_worker_clicks_stored_total == M:
     events/s from its first read until all M are read (kurz_worker_messages_consumed_total)
     and until all are stored, from its first stored window to the end, and from the process's
     spawn (start-up and the group join — librdkafka's mock waits 3 s for more members on a
     first join, as a broker's group.initial.rebalance.delay.ms does — included), the stored
     count at each second, and kurz_worker_store_seconds_total by stage; ClickHouse count() and
     PostgreSQL's daily_stats (click_count + bot_clicks) are checked against M. Then the same
     backlog again with TWO workers in a new group. Where the time goes: the worker's CPU per
     thread, ClickHouse's, PostgreSQL's, Redis's, the mock's and the whole machine's CPU per event
     during the drain, and the wall time of the worker's kurz-consume thread from its first read:
     on a CPU, runnable but waiting for one (/proc/…/schedstat), and sampled every 10 ms while
     blocked, what it waits for (the peer of the socket it polls: PostgreSQL, ClickHouse, Redis;
     a futex with librdkafka on the stack: rd_kafka_consumer_poll, no message ready; another
     futex: kurz waiting for the window being stored). --perf FILE also records the one-worker
     drain with perf (dwarf call graphs);
  3. worker lag under a sustained rate (default 20,000 redirects/s): serve (kafka) + one worker,
     bench/redirect.lua with KURZ_BENCH_DELAY_MS (wrk's delay() hook) calibrated with 4 s runs,
     then --paced seconds of back-to-back 5 s runs, the delay corrected after each, with
     kurz_worker_lag_messages sampled every 250 ms (the worker updates
     it about once a second; it includes the window not stored yet: windows last 1 s, up to 10 s
     when spread over many codes);
     lag p50 / p99 / max, and how long after the traffic stops until stored == delivered.

The mock cluster is no Kafka: one thread per broker, and a fetch finds its offset by scanning
every batch kept in the partition (up to 5 MB of them), so a consumer tailing a long log costs
it more and more CPU — the "mock us" figures — on the cores kurz runs on.

Everything — wrk, serve, the mock cluster, the worker(s), ClickHouse, PostgreSQL and Redis —
shares this machine's cores: figures are for comparing configurations in one run, not absolute
capacity.

Usage: bench/pipeline.py [--links N] [--duration S] [--backlog S] [--max-backlog N]
                         [--paced S] [--rate R] [--no-two] [--tables 123] [--perf FILE]
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
import threading
import time
import urllib.request

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing run.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (KEY, ROOT, Kurz, count_links, die, fmt, free_port, list_codes,  # noqa: E402
                 parse_wrk, run_wrk, thread_cpu, tree_cpu_seconds)

SERVICES = os.path.join(ROOT, "scripts", "services")
LUA = os.path.join(ROOT, "bench")
TICKS = os.sysconf("SC_CLK_TCK")


def metrics(url):
    """Every sample of a /metrics page, as floats: name, or name{labels} for labelled ones."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as r:
        text = r.read().decode()
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", text, re.M)}


def stages(m):
    """kurz_worker_store_seconds_total by stage (newer workers only)."""
    return {k.split('"')[1]: v for k, v in m.items()
            if k.startswith("kurz_worker_store_seconds_total{")}


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
            w0, k0 = tree_cpu_seconds(worker.proc.pid), tree_cpu_seconds(mock.proc.pid)
            r = run_wrk(s.url, redirect, 64, args.duration, s.proc.pid, codes_env, s.settle)
            n = max(r["requests"], 1)
            r["worker_us"] = (tree_cpu_seconds(worker.proc.pid) - w0) * 1e6 / n
            r["mock_us"] = (tree_cpu_seconds(mock.proc.pid) - k0) * 1e6 / n
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
          f"{'worker us':>9} {'mock us':>8}   serve's threads, us/request")
    for label, r in rows:
        others = (f"{r['worker_us']:>9.2f} {r['mock_us']:>8.2f}" if label.startswith("B")
                  else f"{'':>9} {'':>8}")
        print(f"{label:<32} {fmt(r)} {others}   " + threads_text(r["threads_us"], 1))
    avg = lambda key, p: statistics.mean(r[key] for l, r in rows if l.startswith(p))  # noqa: E731
    print(f"{'ratio B / A':<32} {avg('rps', 'B') / avg('rps', 'A'):>10.2f} "
          f"{avg('p50', 'B') / avg('p50', 'A'):>8.2f} {avg('p99', 'B') / avg('p99', 'A'):>8.2f} "
          f"{avg('cpu_us', 'B') / avg('cpu_us', 'A'):>8.2f}")
    print("  cpu us = serve's process tree per request, read once the run's clicks are stored; "
          "worker us / mock us = the\n  kurz worker's and kurz_kafka_mock's CPU per request over "
          "the same span (both on the same 2 cores as serve); the mock's grows with its log "
          "(every fetch\n  scans all batches a partition keeps), so later B rounds pay more")
    print(f"  B's serve: published {events.get('kurz_events_published_total', 0):.0f}, "
          f"delivered {events.get('kurz_events_delivered_total', 0):.0f}, "
          f"spooled {events.get('kurz_events_spooled_total', 0):.0f}, "
          f"dropped {events.get('kurz_events_dropped_total', 0):.0f}; worker stored "
          f"{wm.get('kurz_worker_clicks_stored_total', 0):.0f} of "
          f"{wm.get('kurz_worker_messages_consumed_total', 0):.0f} consumed, "
          f"{wm.get('kurz_worker_store_errors_total', 0):.0f} store errors")


class WaitSampler:
    """Where one thread's wall time goes: on a CPU and waiting for one (from
    /proc/PID/task/TID/schedstat), and, sampled every 10 ms while it sleeps, what it waits for:
    the peer of the socket it polls or reads (ClickHouse, PostgreSQL, Redis, a Kafka broker),
    a futex (inside rd_kafka_consumer_poll: waiting for fetched messages) or a sleep (retry
    back-off). The pollfd array is read from /proc/PID/mem."""

    SOCKET_CALLS = {0: "read", 1: "write", 44: "sendto", 45: "recvfrom", 46: "sendmsg",
                    47: "recvmsg"}
    POLL_CALLS = {7, 271}  # poll, ppoll
    EPOLL_CALLS = {232, 281, 441}  # epoll_wait, epoll_pwait, epoll_pwait2
    FUTEX, NANOSLEEP, CLOCK_NANOSLEEP = 202, 35, 230

    def __init__(self, pid, thread_name, ports):
        self.pid, self.ports, self.thread_name = pid, ports, thread_name
        # librdkafka's code: a futex wait with one of its addresses near the top of the stack
        # is rd_kafka_consumer_poll waiting for messages; any other is kurz's own (a future).
        self.rdkafka = []
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 6 and "x" in fields[1] and "librdkafka" in fields[5]:
                    lo, hi = (int(x, 16) for x in fields[0].split("-"))
                    self.rdkafka.append((lo, hi))
        self.reset()
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def find_thread(self):
        """The first thread of that name (threads it starts, std::async, inherit its name; it
        names itself once running, so it may not be named yet right after the start)."""
        named = []
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/comm") as f:
                    if f.read().strip() == self.thread_name:
                        named.append(int(tid))
            except OSError:
                pass
        return [str(min(named))] if named else []

    def reset(self):
        """Forgets what was measured so far: the breakdown starts now."""
        self.tids = self.find_thread()
        self.counts = {}
        self.sched0 = self.schedstat()
        self.t0 = time.time()

    def schedstat(self):
        run = wait = 0
        for tid in self.tids:
            try:
                with open(f"/proc/{self.pid}/task/{tid}/schedstat") as f:
                    a, b, _ = f.read().split()
                run, wait = run + int(a), wait + int(b)
            except (OSError, ValueError):
                pass
        return run / 1e9, wait / 1e9

    def peer(self, fd):
        try:
            link = os.readlink(f"/proc/{self.pid}/fd/{fd}")
        except OSError:
            return "?"
        m = re.match(r"socket:\[(\d+)\]", link)
        if not m:
            return "file"
        for table in ("tcp", "tcp6"):
            try:
                with open(f"/proc/{self.pid}/net/{table}") as f:
                    for line in f.readlines()[1:]:
                        fields = line.split()
                        if fields[9] == m.group(1):
                            return self.ports.get(int(fields[2].rsplit(":", 1)[1], 16), "kafka")
            except OSError:
                pass
        return "socket"

    def classify(self, tid):
        with open(f"/proc/{self.pid}/task/{tid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if state == "R":
            return None
        with open(f"/proc/{self.pid}/task/{tid}/syscall") as f:
            fields = f.read().split()
        if not fields or not fields[0].lstrip("-").isdigit():
            return "other"
        nr = int(fields[0])
        args = [int(x, 16) for x in fields[1:7]]
        if nr == self.FUTEX:
            try:
                with open(f"/proc/{self.pid}/mem", "rb") as mem:
                    mem.seek(int(fields[7], 16))  # the user stack pointer
                    stack = mem.read(2048)
                words = (int.from_bytes(stack[i:i + 8], "little") for i in range(0, len(stack), 8))
                if any(lo <= w < hi for w in words for lo, hi in self.rdkafka):
                    return "kafka poll (no message ready)"
                return "futex (a kurz wait: the window being stored)"
            except (OSError, IndexError, ValueError):
                return "futex"
        if nr in (self.NANOSLEEP, self.CLOCK_NANOSLEEP):
            return "sleep"
        if nr in self.SOCKET_CALLS:
            return self.peer(args[0])
        if nr in self.EPOLL_CALLS:
            # The sockets the epoll instance watches, from its fdinfo: the first known peer.
            try:
                with open(f"/proc/{self.pid}/fdinfo/{args[0]}") as f:
                    fds = re.findall(r"^tfd:\s+(\d+)", f.read(), re.M)
            except OSError:
                return "epoll"
            peers = [self.peer(fd) for fd in fds]
            known = [x for x in peers if x not in ("?", "file", "socket")]
            return known[0] if known else "epoll"
        if nr in self.POLL_CALLS:
            try:
                with open(f"/proc/{self.pid}/mem", "rb") as mem:
                    mem.seek(args[0])
                    fd = int.from_bytes(mem.read(4), "little", signed=True)
                return self.peer(fd)
            except OSError:
                return "poll"
        return f"syscall {nr}"

    def loop(self):
        while not self.stop_flag.wait(0.01):
            for tid in self.tids:
                try:
                    what = self.classify(tid)
                except (OSError, ValueError):
                    continue
                if what:
                    self.counts[what] = self.counts.get(what, 0) + 1

    def stop(self):
        """'running x%, runnable y%, waiting: peer z%, …' of the wall time since the start."""
        self.stop_flag.set()
        self.thread.join()
        wall = (time.time() - self.t0) * max(len(self.tids), 1)
        run1, wait1 = self.schedstat()
        run, queued = run1 - self.sched0[0], wait1 - self.sched0[1]
        blocked = max(0.0, wall - run - queued)
        total = sum(self.counts.values()) or 1
        if not self.tids:
            return f"no {self.thread_name} thread found"
        parts = [f"on CPU {run / wall:.0%}", f"runnable, waiting for a CPU {queued / wall:.0%}"]
        parts += [f"{k} {blocked * v / total / wall:.0%}"
                  for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1])
                  if blocked * v / total / wall >= 0.005]
        return ", ".join(parts)


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
    pids = {**server_pids(), "kafka mock": mock.proc.pid}
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
            ["perf", "record", "-F", "299", "--call-graph", "dwarf,16384", "-o", args.perf, "-p",
             str(workers[0].proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    threads0 = [thread_cpu(w.proc.pid) for w in workers]
    wcpu0 = [tree_cpu_seconds(w.proc.pid) for w in workers]
    samplers = [WaitSampler(w.proc.pid, "kurz-consume", ctx["ports"]) for w in workers]
    t_read = t_first = first_stored = t_all_read = None
    deadline = time.time() + max(120, m_total / 5000)
    stored = consumed = 0
    samples = []
    stalled = False
    last_progress, last_seen = time.time(), (-1, -1)
    while time.time() < deadline:
        ms = [w.metrics() for w in workers]
        now = time.time()
        stored = sum(m.get("kurz_worker_clicks_stored_total", 0) for m in ms)
        consumed = sum(m.get("kurz_worker_messages_consumed_total", 0) for m in ms)
        samples.append((now, stored))
        if consumed > 0 and t_read is None:
            t_read = now
            for sampler in samplers:
                sampler.reset()  # the breakdown covers the drain, not the group join
        if consumed >= m_total and t_all_read is None:
            t_all_read = now
        if stored > 0 and t_first is None:
            t_first, first_stored = now, stored
        if stored >= m_total:
            break
        if (stored, consumed) != last_seen:
            last_seen, last_progress = (stored, consumed), now
        elif t_read is not None and now - last_progress > 15:
            stalled = True  # nothing read or stored for 15 s: the rest is not in the topic
            break
        time.sleep(0.1)
    t_end = time.time()
    if stalled:
        t_end = last_progress
    waits = [sampler.stop() for sampler in samplers]
    snap1 = cpu_snapshot(pids)
    threads1 = [thread_cpu(w.proc.pid) for w in workers]
    wcpu1 = [tree_cpu_seconds(w.proc.pid) for w in workers]
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=60)
        procs.procs.remove(perf)
    wm = [w.metrics() for w in workers]
    stage_s = {}
    for m in wm:
        for k, v in stages(m).items():
            stage_s[k] = stage_s.get(k, 0) + v
    ch_count = int(clickhouse(f"SELECT count() FROM {db}.clicks"))
    pg_delta = daily_sum(ctx) - pg_before
    for w in workers:
        procs.stop(w.proc)
    threads = {}
    for t0, t1 in zip(threads0, threads1):
        for name, v in thread_delta(t0, t1).items():
            threads[name] = threads.get(name, 0) + v
    worker_cpu = sum(b - a for a, b in zip(wcpu0, wcpu1))
    if worker_cpu - sum(threads.values()) > 0.01:  # threads that ended (std::async stores)
        threads["(threads that ended)"] = worker_cpu - sum(threads.values())
    # Stored clicks at each second after the spawn, in thousands.
    timeline, k = [], 0
    for second in range(1, int(t_end - t_spawn) + 2):
        while k + 1 < len(samples) and samples[k + 1][0] - t_spawn <= second:
            k += 1
        timeline.append(samples[k][1] if samples and samples[k][0] - t_spawn <= second else 0)
    elapsed = t_end - t_spawn
    return {
        "label": label, "workers": n_workers, "stored": stored, "done": stored >= m_total,
        "stalled": stalled, "consumed": consumed,
        "start_s": t_listening - t_spawn, "read_s": (t_read - t_spawn) if t_read else None,
        "first_s": (t_first - t_spawn) if t_first else None,
        "first_stored": first_stored, "elapsed": elapsed,
        "all_read_s": (t_all_read - t_spawn) if t_all_read else None,
        # None when the first stored window was also the last (windows grow up to 10 s).
        "rate_first": stored / (t_end - t_first)
        if t_first and stored > first_stored and t_end - t_first >= 1 else None,
        "rate_read": consumed / (t_all_read - t_read) if t_all_read and t_all_read > t_read
        else None,
        "rate_stored": stored / (t_end - t_read) if t_read else 0,
        "rate_all": stored / elapsed,
        "ch": ch_count, "pg": pg_delta,
        "windows": sum(m.get("kurz_worker_windows_stored_total", 0) for m in wm),
        "errors": sum(m.get("kurz_worker_store_errors_total", 0) for m in wm),
        "conflicts": sum(m.get("kurz_worker_conflicts_total", 0) for m in wm),
        "duplicates": sum(m.get("kurz_worker_duplicates_total", 0) for m in wm),
        "partitions": [m.get("kurz_worker_partitions", 0) for m in wm],
        "worker_cpu": worker_cpu, "stages": stage_s, "timeline": timeline,
        "threads": threads, "waits": waits,
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
    # wrk for --backlog seconds, or stopped (SIGINT: it still prints its summary) once
    # --max-backlog events are published: kurz_kafka_mock keeps 5 MB of batches per partition
    # (librdkafka's mock log limit, not configurable) and deletes the oldest beyond that, which
    # a worker starting at the earliest offset would then never see.
    d0 = metrics(s.url)["kurz_events_delivered_total"]
    t0, k0 = time.time(), tree_cpu_seconds(mock.proc.pid)
    cpu0, threads0 = tree_cpu_seconds(s.proc.pid), thread_cpu(s.proc.pid)
    wrk = procs.add(start_wrk(s.url, f"{LUA}/redirect.lua", 64, args.backlog, codes_env))
    capped = False
    while wrk.poll() is None:
        time.sleep(0.1)
        if not capped and metrics(s.url)["kurz_events_published_total"] >= args.max_backlog:
            wrk.send_signal(signal.SIGINT)
            capped = True
    r = parse_wrk(wrk.stdout.read())
    procs.procs.remove(wrk)
    wrk_s = time.time() - t0
    s.settle()
    wall = time.time() - t0
    n = max(r["requests"], 1)
    r["cpu_us"] = (tree_cpu_seconds(s.proc.pid) - cpu0) * 1e6 / n
    r["threads_us"] = {k: v * 1e6 / n
                       for k, v in thread_delta(threads0, thread_cpu(s.proc.pid)).items()}
    mock_us = (tree_cpu_seconds(mock.proc.pid) - k0) * 1e6 / n
    m = metrics(s.url)
    m_total = int(m["kurz_events_delivered_total"])
    produced = m_total - d0
    procs.stop(s.proc)

    print("\n2. end-to-end events/s: producer → mock cluster (3 brokers, 12 partitions) → "
          "worker → ClickHouse + PostgreSQL (+ Redis counters)")
    print(f"  (i) backlog, no worker running: wrk -c64 at full speed for {wrk_s:.1f} s"
          + (f" (stopped at {args.max_backlog:,} published events)" if capped
             else f" (-d{args.backlog}s)") + ": "
          f"{r['rps']:,.0f} req/s (p50 {r['p50']:.3f} ms, p99 {r['p99']:.3f} ms), "
          f"{produced:,.0f} events delivered in {wall:.1f} s (until published == delivered) → "
          f"producer {produced / wall:,.0f} events/s;\n      CPU us/request: serve "
          f"{r['cpu_us']:.2f} " + threads_text(r["threads_us"], 1) + f", kafka mock {mock_us:.2f}")
    print(f"      the topic holds M = {m_total:,} events (warm-up included); published "
          f"{m['kurz_events_published_total']:.0f}, delivered "
          f"{m['kurz_events_delivered_total']:.0f}, spooled {m['kurz_events_spooled_total']:.0f}, "
          f"dropped {m['kurz_events_dropped_total']:.0f}")
    results = [drain(args, ctx, mock, m_total, "(ii) one worker", 1, "bench-t2-one")]
    if not args.no_two:
        results.append(drain(args, ctx, mock, m_total, "(iii) two workers", 2, "bench-t2-two"))
    procs.stop(mock.proc)
    print(f"  {'drain of the backlog':<20} {'read ev/s':>9} {'stored ev/s':>11} "
          f"{'1st store→end':>13} {'w/ start':>8}   {'listen':>6} {'1st read':>8} "
          f"{'all read':>8} {'1st store':>9} {'all stored':>10}  checks")
    for d in results:
        ok_ch = "ok" if d["ch"] >= m_total else "SHORT"
        ok_pg = "ok" if d["pg"] == m_total else "MISMATCH"
        sec = lambda v: f"{v:.2f}" if v is not None else "never"  # noqa: E731
        rate = lambda v: f"{v:,.0f}" if v is not None else "—"  # noqa: E731
        state = ("" if d["done"] else f" (STALLED: read {d['consumed']:,.0f})" if d["stalled"]
                 else " (TIMED OUT)")
        print(f"  {d['label']:<20} {rate(d['rate_read']):>9} {rate(d['rate_stored']):>11} "
              f"{rate(d['rate_first']):>13} {rate(d['rate_all']):>8}   {sec(d['start_s']):>6} "
              f"{sec(d['read_s']):>8} {sec(d['all_read_s']):>8} {sec(d['first_s']):>9} "
              f"{sec(d['elapsed']):>10}  stored {d['stored']:,.0f}/{m_total:,}{state}, "
              f"ClickHouse count() {d['ch']:,} {ok_ch}, daily_stats sum {d['pg']:,} {ok_pg}")
    for line in (
            "read ev/s = M / (first message read → all M read: decoded, enriched, raw clicks "
            "inserted);",
            "stored ev/s = M / (first read → stored == M); 1st store→end = M / (first stored "
            "window → stored == M), as asked,",
            "  '—' when that is under 1 s (the first window was the last, or nearly: windows "
            "grow up to 10 s);",
            "w/ start = M / (spawn → stored == M: start-up, group join — the mock, like a broker, "
            "waits 3 s for more",
            "  members on a first join — and the windows included); the last five columns are "
            "seconds after the spawn"):
        print("      " + line)
    for d in results:
        n = max(d["stored"], 1)
        known = sum(v for k, v in d["servers"].items() if k != "machine") + d["worker_cpu"]
        sv = ", ".join(f"{k} {v * 1e6 / n:.2f}" for k, v in d["servers"].items()
                       if k != "machine")
        sv += (f"; all processes {d['servers']['machine'] * 1e6 / n:.2f}, of which anything else "
               f"(this script, other users' jobs) "
               f"{(d['servers']['machine'] - known) * 1e6 / n:.2f}")
        print(f"  {d['label']}: partitions {'/'.join(str(int(p)) for p in d['partitions'])}; "
              f"{d['windows']:.0f} windows (~{d['stored'] / max(d['windows'], 1):,.0f} clicks "
              f"each), {d['errors']:.0f} store errors, {d['conflicts']:.0f} conflicts, "
              f"{d['duplicates']:.0f} duplicates")
        print(f"      CPU us/event, worker: {d['worker_cpu'] * 1e6 / n:.2f} "
              + threads_text(d["threads"], n / 1e6))
        print("      stored (thousands) at each second after the spawn: "
              + " ".join(f"{x / 1000:.0f}" for x in d["timeline"]))
        if d["stages"]:
            print("      kurz_worker_store_seconds_total by stage (summed over workers): "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in d["stages"].items())
                  + f" — of {d['elapsed'] - (d['read_s'] or 0):.1f} s from the first read")
        for i, w in enumerate(d["waits"]):
            which = f" (worker {i + 1})" if len(d["waits"]) > 1 else ""
            print(f"      wall time of kurz-consume{which}"
                  f", first read → stored == M: {w}")
        print(f"      CPU us/event, others during the drain: {sv} (machine "
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
    paced = f"{LUA}/redirect.lua"
    run_wrk(s.url, f"{LUA}/redirect.lua", 64, 3, s.proc.pid, codes_env, s.settle)  # warm-up
    # Pacing: rate = C / (delay + overhead), the overhead (response time, wrk's timer slack)
    # measured by each run. C is chosen for a delay of about 8 ms, several times the response
    # time, so that the rate moves little when responses slow down (wrk is a closed loop: a
    # connection waits for its response). Calibration with 4 s runs, then the run itself as
    # back-to-back 5 s wrk runs, the delay corrected halfway after each: the machine's speed
    # drifts during the run (the worker's windows, the mock's growing logs).
    conns = max(8, round(args.rate * 0.0085))
    delay = 8.0

    def next_delay(conns, delay, rps):
        overhead = max(0.05, conns / max(rps, 1) * 1000 - delay)
        want = conns / args.rate * 1000 - overhead
        return conns, min(max(want, delay / 2, 0.5), delay * 2)

    calib = []
    for _ in range(args.calibrate):
        env = {**codes_env, "KURZ_BENCH_DELAY_MS": f"{delay:.3f}"}
        r = run_wrk(s.url, paced, conns, 4, s.proc.pid, env)
        calib.append((conns, delay, r["rps"]))
        if abs(r["rps"] - args.rate) / args.rate < 0.03:
            break
        conns, delay = next_delay(conns, delay, r["rps"])
    s.settle()
    m0 = metrics(s.url)
    wm0 = worker.metrics()
    stored0 = wm0.get("kurz_worker_clicks_stored_total", 0)
    cpu0 = {"serve": tree_cpu_seconds(s.proc.pid), "worker": tree_cpu_seconds(worker.proc.pid),
            "mock": tree_cpu_seconds(mock.proc.pid), "machine": machine_busy_seconds()}
    th0 = {"serve": thread_cpu(s.proc.pid), "worker": thread_cpu(worker.proc.pid)}
    lags, done = [], threading.Event()

    def sample_lag():
        while not done.wait(0.25):
            try:
                lags.append(worker.metrics().get("kurz_worker_lag_messages", 0))
            except OSError:
                pass

    sampler = threading.Thread(target=sample_lag, daemon=True)
    t0 = time.time()
    sampler.start()
    segments = []
    try:
        while time.time() - t0 < args.paced - 1:
            seconds = max(1, min(5, round(args.paced - (time.time() - t0))))
            env = {**codes_env, "KURZ_BENCH_DELAY_MS": f"{delay:.3f}"}
            r = run_wrk(s.url, paced, conns, seconds, s.proc.pid, env)
            segments.append((conns, delay, r))
            _, want = next_delay(conns, delay, r["rps"])
            delay = (delay + want) / 2
    finally:
        done.set()
        sampler.join()
    t_stop = time.time()
    requests = sum(r["requests"] for _, _, r in segments)
    r = {"requests": requests, "rps": requests / (t_stop - t0),
         "p50": statistics.median(x["p50"] for _, _, x in segments),
         "p99": max(x["p99"] for _, _, x in segments),
         "non2xx": sum(x["non2xx"] for _, _, x in segments)}
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
            "mock": tree_cpu_seconds(mock.proc.pid), "machine": machine_busy_seconds()}
    th1 = {"serve": thread_cpu(s.proc.pid), "worker": thread_cpu(worker.proc.pid)}
    m1 = metrics(s.url)
    wm = worker.metrics()
    stage_s = {k: v - stages(wm0).get(k, 0) for k, v in stages(wm).items()}
    procs.stop(s.proc)
    procs.stop(worker.proc)
    procs.stop(mock.proc)

    print(f"\n3. worker lag under a sustained {args.rate:,} redirects/s "
          f"(bench/redirect.lua paced, one worker, --flush-interval-ms 1000)")
    print("  calibration, 4 s each: " + "; ".join(f"-c{c} delay {d:.2f} ms → {x:,.0f} req/s"
                                                  for c, d, x in calib))
    delivered = m1["kurz_events_delivered_total"] - m0["kurz_events_delivered_total"]
    stored = wm.get("kurz_worker_clicks_stored_total", 0) - stored0
    rates = [x["rps"] for _, _, x in segments]
    print(f"  run: {len(segments)} back-to-back wrk -t1 runs ({t_stop - t0:.1f} s, -c"
          f"{'/'.join(sorted({str(c) for c, _, _ in segments}))}, delay "
          f"{min(d for _, d, _ in segments):.2f}–{max(d for _, d, _ in segments):.2f} ms): "
          f"{r['rps']:,.0f} req/s achieved (runs {min(rates):,.0f}–{max(rates):,.0f}; median p50 "
          f"{r['p50']:.3f} ms, worst p99 {r['p99']:.3f} ms"
          + (f", non-3xx {r['non2xx']}" if r["non2xx"] else "") + f"); {delivered:,.0f} events "
          f"delivered, {stored:,.0f} stored")
    print(f"  lag (kurz_worker_lag_messages, {len(lags)} samples every 250 ms): "
          f"p50 {quantile(lags, 0.5):,.0f}, p99 {quantile(lags, 0.99):,.0f}, "
          f"max {max(lags) if lags else float('nan'):,.0f} messages "
          f"(p50 ≈ {quantile(lags, 0.5) / max(r['rps'], 1) * 1000:.0f} ms of traffic)")
    print("  after the traffic stops, stored == delivered in "
          + (f"{caught_up:.2f} s" if caught_up is not None else "NEVER (waited 120 s)"))
    n = max(r["requests"], 1)
    print(f"  CPU us/request, run and catch-up: serve "
          f"{(cpu1['serve'] - cpu0['serve']) * 1e6 / n:.2f} "
          + threads_text(thread_delta(th0["serve"], th1["serve"]), n / 1e6))
    worker_threads = thread_delta(th0["worker"], th1["worker"])
    ended = cpu1["worker"] - cpu0["worker"] - sum(worker_threads.values())
    if ended > 0.01:
        worker_threads["(threads that ended)"] = ended
    print(f"                                    worker "
          f"{(cpu1['worker'] - cpu0['worker']) * 1e6 / n:.2f} "
          + threads_text(worker_threads, n / 1e6))
    print(f"                                    kafka mock "
          f"{(cpu1['mock'] - cpu0['mock']) * 1e6 / n:.2f}")
    if stage_s:
        print("  kurz_worker_store_seconds_total by stage: "
              + ", ".join(f"{k} {v:.2f} s" for k, v in stage_s.items())
              + f" — of {t_end - t0:.1f} s (run and catch-up)")
    busy = (cpu1["machine"] - cpu0["machine"]) / (t_end - t0) * 100 / os.cpu_count()
    print(f"  machine {busy:.0f}"
          f"% busy; serve spooled {m1['kurz_events_spooled_total']:.0f}, dropped "
          f"{m1['kurz_events_dropped_total']:.0f}; worker store errors "
          f"{wm.get('kurz_worker_store_errors_total', 0):.0f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--links", type=int, default=20_000)
    ap.add_argument("--duration", type=int, default=10, help="seconds of each table-1 run")
    ap.add_argument("--rounds", type=int, default=2, help="A B pairs in table 1")
    ap.add_argument("--backlog", type=int, default=15, help="seconds of redirects for table 2")
    ap.add_argument("--max-backlog", type=int, default=700_000,
                    help="stop table 2's backlog run at this many events (the mock keeps 5 MB "
                         "of batches per partition)")
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
    ctx["ports"] = {int(re.search(r":(\d+)", pg.split("@")[-1]).group(1)): "postgresql",
                    int(re.search(r":(\d+)", redis.split("//")[-1]).group(1)): "redis",
                    18123: "clickhouse"}
    ctx["serve_extra"] = ["--database", ctx["db"], "--cache", redis, "--cache-namespace", schema]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no",
                            "--", "src", "tools", "CMakeLists.txt"],
                           capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()
    local = " (+ local changes to src/tools)" if dirty else ""
    print(f"kurz click-pipeline benchmark — commit {commit}{local}, "
          f"{os.cpu_count()} cores shared by everything (wrk, kurz serve, kurz_kafka_mock, kurz "
          f"worker, ClickHouse, PostgreSQL, Redis); load average before: "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    committed = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%ct", "--", "src",
                                "tools"], capture_output=True, text=True).stdout.strip()
    if committed and os.path.getmtime(args.kurz) < int(committed):
        print(f"NOTE: {args.kurz} is older than the last commit to src/tools: rebuild it "
              "(cmake --build --preset bench -j2) to measure this commit")
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
                    max(1, min(5, missing // 2000 + 1)), creator.proc.pid,
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
        load = os.getloadavg()
        print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
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
            print(f"\nkept: {work}, schema {schema}, ClickHouse databases "
                  f"{', '.join(ctx['ch_dbs'])}")


if __name__ == "__main__":
    main()
