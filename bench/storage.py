#!/usr/bin/env python3
"""The shared store's cost (issue 16), measured side by side in one run:

  * added latency per request with the request log in PostgreSQL vs SQLite: wrk at 1 connection through
    429chain to a fixed nginx answer, the two configurations alternated (A B A B) so drift cancels out;
  * the propagation delay of a cooldown between two replicas on one PostgreSQL database: a header-less 429
    seen by replica A, polled for on replica B's /v1/ratelimits (an upper bound: it includes A's round trip).

A throwaway PostgreSQL 15 runs in a temporary folder (as `nobody` when run as root) and is removed after.
Run by `scripts/bench --storage`; appends its section to bench/RESULTS.md.
"""

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the main benchmark's helpers: nginx, wrk, processes, ports)

PG_BIN = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
PG_USER, PG_PASSWORD = "chain", "bench-pw"


def as_pg_user(cmd):
    return ["runuser", "-u", "nobody", "--"] + cmd if os.geteuid() == 0 else cmd


def start_postgres(procs):
    tmp = tempfile.mkdtemp(prefix="chain-bench-pg-", dir="/tmp")
    with open(os.path.join(tmp, "pw"), "w") as f:
        f.write(PG_PASSWORD)
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "nobody", tmp], check=True)
    data = os.path.join(tmp, "data")
    subprocess.run(as_pg_user([f"{PG_BIN}/initdb", "-D", data, "-U", PG_USER, f"--pwfile={tmp}/pw",
                               "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True, env=dict(os.environ, LC_ALL="C.UTF-8"))
    port = bench.free_port()
    # The defaults a small deployment has (fsync on): the point is what a request pays, not the disk.
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp}"
    subprocess.run(as_pg_user([f"{PG_BIN}/pg_ctl", "-D", data, "-l", f"{tmp}/server.log", "-o", opts, "-w",
                               "start"]), check=True, capture_output=True)
    subprocess.run(as_pg_user([f"{PG_BIN}/psql", "-h", tmp, "-p", str(port), "-U", PG_USER, "-d", "postgres",
                               "-c", "CREATE DATABASE bench"]), check=True, capture_output=True)
    return tmp, data, port


def stop_postgres(tmp, data):
    subprocess.run(as_pg_user([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]), capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)


def nginx_with_limited(tmp, port):
    path = bench.nginx_conf(tmp, port)
    with open(path) as f:
        conf = f.read()
    limited = ("        location /limited/ {\n            default_type application/json;\n"
               "            return 429 '{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"rate_limit\"}}';\n"
               "        }\n")
    conf = conf.replace("        location / {", limited + "        location / {", 1)
    with open(path, "w") as f:
        f.write(conf)
    return path


def config(tmp, name, nginx_port, storage):
    path = os.path.join(tmp, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""version: 1
settings:
  apiKeys: ["{bench.KEY}"]
  defaultChain: bench
  logLevel: info
  dbPath: {tmp}/{name}.db
  storage: "{storage}"
  replicaName: {name}
providers:
  - {{id: first, name: First, type: generic-openai, apiKey: k1, baseUrl: "http://127.0.0.1:{nginx_port}/v1"}}
  - {{id: limited, name: Limited, type: generic-openai, apiKey: k2,
     baseUrl: "http://127.0.0.1:{nginx_port}/limited/v1"}}
chains:
  - name: bench
    entries: [{{provider: first, model: upstream-model}}]
  - name: quota
    entries: [{{provider: limited, model: upstream-model}}, {{provider: first, model: upstream-model}}]
""")
    return path


def start_chain(procs, binary, tmp, name, cfg):
    port = bench.free_port()
    p = procs.start([binary, "--headless", "-c", cfg, "-p", str(port)], os.path.join(tmp, f"{name}.log"))
    if not bench.wait_http(port, "/health", timeout=30):
        raise RuntimeError(f"429chain ({name}) did not start (see {tmp}/{name}.log)")
    p.port = port
    return p


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.headers = {"Authorization": f"Bearer {bench.KEY}", "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=body, headers=self.headers)
        r = self.conn.getresponse()
        return r.status, r.read()

    def limited_exhausted(self):
        _, body = self.call("GET", "/v1/ratelimits")
        for e in json.loads(body).get("ratelimits", []):
            if e.get("provider") == "limited":
                return e.get("status") == "exhausted"
        return False


def propagation(a, b, rounds):
    ca, cb = Client(a.port), Client(b.port)
    delays = []
    for _ in range(rounds):
        ca.call("POST", "/v1/admin/ratelimits/reset", '{"provider":"limited"}')
        deadline = time.time() + 5
        while (ca.limited_exhausted() or cb.limited_exhausted()) and time.time() < deadline:
            time.sleep(0.005)
        t0 = time.perf_counter()
        status, _ = ca.call("POST", "/v1/chat/completions",
                            '{"model":"quota","messages":[{"role":"user","content":"hi"}]}')
        if status != 200:
            raise RuntimeError(f"the quota chain answered {status}")
        deadline = time.time() + 5
        while not cb.limited_exhausted():
            if time.time() > deadline:
                raise RuntimeError("replica B never saw the cooldown")
        delays.append((time.perf_counter() - t0) * 1000.0)
    delays.sort()
    return {"p50": statistics.median(delays), "p99": delays[min(len(delays) - 1, int(len(delays) * 0.99))],
            "max": delays[-1], "rounds": rounds}


def log_delays(tmp):
    """The propagation as the replicas saw it: A's log line for each cooldown it started, B's for the same
    cooldown applied from A's message (both processes stamp lines with the same wall clock, in ms)."""
    def stamps(name, want_learned):
        out = []
        with open(os.path.join(tmp, f"{name}.log"), errors="replace") as f:
            for line in f:
                if "limited/" not in line or "cooling down for" not in line:
                    continue
                if ("learned by" in line) != want_learned:
                    continue
                h, m, rest = line[:12].split(":")
                out.append((int(h) * 3600 + int(m) * 60 + float(rest)) * 1000.0)
        return out
    a, b = stamps("pg-a", False), stamps("pg-b", True)
    delays = [tb - ta for ta, tb in zip(a, b)]
    bench.log("propagation by round (ms): " + " ".join(f"{d:.0f}" for d in delays))
    delays.sort()
    if not delays:
        return None
    return {"p50": statistics.median(delays), "p99": delays[min(len(delays) - 1, int(len(delays) * 0.99))],
            "max": delays[-1], "rounds": len(delays)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(bench.ROOT, "build", "bench"))
    ap.add_argument("--chain-bin", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--label", default="")
    ap.add_argument("--results", default=os.path.join(bench.ROOT, "bench", "RESULTS.md"))
    a = ap.parse_args()
    binary = a.chain_bin or os.path.join(a.build, "app", "429chain")
    seconds = 3 if a.quick else 10
    rounds = 20 if a.quick else 100
    tmp = tempfile.mkdtemp(prefix="429chain-bench-storage-")
    procs = bench.Procs()
    pg = None
    R = {}
    failed = True
    try:
        pg = start_postgres(procs)
        url = f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{pg[2]}/bench"
        nginx_port = bench.free_port()
        for d in ("nginx-body", "nginx-proxy", "nginx-fastcgi", "nginx-uwsgi", "nginx-scgi"):
            os.makedirs(os.path.join(tmp, d), exist_ok=True)
        procs.start(["nginx", "-p", tmp, "-c", nginx_with_limited(tmp, nginx_port), "-g", "daemon off;"],
                    os.path.join(tmp, "nginx.log"))
        if not bench.wait_http(nginx_port):
            raise RuntimeError("nginx did not start")
        lite = start_chain(procs, binary, tmp, "sqlite", config(tmp, "sqlite", nginx_port, "sqlite"))
        pga = start_chain(procs, binary, tmp, "pg-a", config(tmp, "pg-a", nginx_port, url))
        pgb = start_chain(procs, binary, tmp, "pg-b", config(tmp, "pg-b", nginx_port, url))
        headers = {"Authorization": f"Bearer {bench.KEY}"}
        runs = {"sqlite": [], "postgresql": []}
        for name, p in (("sqlite", lite), ("postgresql", pga)):
            bench.wrk(tmp, f"http://127.0.0.1:{p.port}/v1/chat/completions", 8, 1, headers)  # warm-up
        for _ in range(2):
            for name, p in (("sqlite", lite), ("postgresql", pga)):
                bench.log(f"latency at 1 connection: {name}")
                runs[name].append(bench.wrk(tmp, f"http://127.0.0.1:{p.port}/v1/chat/completions", 1, seconds,
                                            headers))
        for name, rs in runs.items():
            R[name] = {"p50": statistics.median(r["p50"] for r in rs),
                       "p99": statistics.median(r["p99"] for r in rs),
                       "rps": statistics.median(r["rps"] for r in rs),
                       "errors": sum(r["errors"] for r in rs)}
        bench.log("cooldown propagation between two replicas")
        R["propagation"] = propagation(pga, pgb, rounds)
        failed = False
    finally:
        procs.stop_all()
        if not failed:
            R["propagation_logged"] = log_delays(tmp)
        if pg:
            stop_postgres(pg[0], pg[1])
        if failed:
            bench.log(f"failed: the logs are in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    added = R["postgresql"]["p50"] - R["sqlite"]["p50"]
    p = R["propagation"]
    machine, commit = bench.machine()
    lines = [
        f"## Storage: PostgreSQL vs SQLite{(' (' + a.label + ')') if a.label else ''}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, {machine}; "
        f"429chain `{os.path.relpath(binary, bench.ROOT)}`, PostgreSQL 15 on loopback (fsync on). "
        f"`scripts/bench --storage{' --quick' if a.quick else ''}`.",
        "",
        "| request log in | p50 (1 connection) | p99 | requests/s | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in ("sqlite", "postgresql"):
        r = R[name]
        lines.append(f"| {name} | {r['p50']:.3f} ms | {r['p99']:.3f} ms | {r['rps']:.0f} | {r['errors']} |")
    lines += [
        "",
        f"Added p50 with PostgreSQL: {added:+.3f} ms (target ≤ 0.1 ms: "
        f"{'met' if added <= 0.1 else 'missed'}).",
        f"Cooldown propagation A → B over {p['rounds']} rounds (request sent to A until B's /v1/ratelimits "
        f"shows it): p50 {p['p50']:.1f} ms, p99 {p['p99']:.1f} ms, max {p['max']:.1f} ms "
        f"(an upper bound: it includes A's round trip and the polling).",
    ]
    q = R.get("propagation_logged")
    if q:
        lines.append(f"The same cooldowns by the replicas' own log stamps (A starts it → B applies it): "
                     f"p50 {q['p50']:.1f} ms, p99 {q['p99']:.1f} ms, max {q['max']:.1f} ms over {q['rounds']} "
                     f"(target p99 ≤ 200 ms: {'met' if q['p99'] <= 200 else 'missed'}).")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    with open(a.results, "a") as f:
        f.write("\n" + text)


if __name__ == "__main__":
    main()
