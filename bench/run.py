#!/usr/bin/env python3
"""The 429chain benchmark (run it through scripts/bench, which installs and builds what it needs).

Everything is measured side by side in one run against the same upstreams on this machine:
  - non-streaming: nginx answering a fixed chat completion, hit directly, through bench_relay (the floor of
    our stack: QHttpServer + QNetworkAccessManager, nothing else), through 429chain (a two-entry chain, request
    log and logging on) and through @portkey-ai/gateway (a two-target fallback), with wrk at 1 and 32
    connections;
  - streaming: bench_upstream (N chunks T ms apart) directly and through 429chain, 1/50/200 concurrent
    streams, timed by bench_load;
  - RSS, start to first served /health, callgrind instructions per request, and the request-log row count.
Prints a table and writes bench/RESULTS.md.
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "bench-key"
PEER_DIR = os.path.join(ROOT, "bench", ".peer")

WHOLE_JSON = (
    '{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"upstream-model",'
    '"choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the benchmark upstream."},'
    '"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16}}'
)
REQUEST_BODY = '{"model":"bench","messages":[{"role":"user","content":"Say hello."}]}'


def log(msg):
    print(f"==> {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def tree_rss_mb(pid):
    """RSS of a process and its children (node forks none here, but nginx has a master and a worker)."""
    total = rss_mb(pid) or 0.0
    try:
        for child in open(f"/proc/{pid}/task/{pid}/children").read().split():
            total += tree_rss_mb(int(child))
    except OSError:
        pass
    return total


class RssSampler:
    """Largest RSS of a process while a block runs (sampled every 50 ms)."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def __enter__(self):
        def run():
            while not self._stop.is_set():
                self.peak = max(self.peak, tree_rss_mb(self.pid))
                time.sleep(0.05)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class Procs:
    """Every process the benchmark starts, stopped at the end whatever happens."""

    def __init__(self):
        self.procs = []

    def start(self, cmd, logfile, env=None, announce_port=False):
        out = open(logfile, "w")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE if announce_port else out, stderr=out, env=env,
                             start_new_session=True)
        self.procs.append(p)
        if announce_port:
            line = p.stdout.readline().decode()
            m = re.match(r"port (\d+)", line)
            if not m:
                raise RuntimeError(f"{cmd[0]} did not start: {line!r} (see {logfile})")
            p.port = int(m.group(1))
        return p

    def adopt(self, pid):
        self.procs.append(pid)

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        pid = p if isinstance(p, int) else p.pid
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if isinstance(p, int):
                    done, _ = os.waitpid(pid, os.WNOHANG)
                    if done:
                        return
                elif p.poll() is not None:
                    return
            except ChildProcessError:
                if not alive(pid):
                    return
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop_all(self):
        for p in reversed(self.procs):
            self.stop(p, timeout=5)


def alive(pid):
    """False once a process is gone or a zombie (an adopted process is reaped by whoever adopted it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_http(port, path="/", timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def kv(text):
    return {k: float(v) for k, v in re.findall(r"^(\w+)=(-?[\d.]+)$", text, re.M)}


def run_load(build, args, timeout=600):
    r = subprocess.run([os.path.join(build, "bench", "bench_load")] + args, capture_output=True, text=True,
                       timeout=timeout)
    return kv(r.stdout), r.returncode


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(tmp, url, conns, seconds, headers):
    script = os.path.join(tmp, f"wrk-{abs(hash(tuple(headers.items())))}.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = [[{REQUEST_BODY}]]\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        for k, v in headers.items():
            f.write(f'wrk.headers["{k}"] = [[{v}]]\n')
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", script, url],
                         capture_output=True, text=True).stdout
    res = {"rps": 0.0, "p50": None, "p99": None, "requests": 0, "errors": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        if m:
            res[key] = to_ms(*m.groups())
    m = re.search(r"(\d+) requests in", out)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["errors"] += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["errors"] += sum(int(x) for x in m.groups())
    return res


def nginx_conf(tmp, port):
    body = WHOLE_JSON.replace("'", "\\'")
    conf = f"""worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            default_type application/json;
            return 200 '{body}';
        }}
    }}
}}
"""
    path = os.path.join(tmp, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def chain_config(tmp, port, nginx_port, stream_port):
    path = os.path.join(tmp, "config.yaml")
    with open(path, "w") as f:
        f.write(f"""version: 1
settings:
  port: {port}
  apiKeys: ["{KEY}"]
  defaultChain: bench
  logLevel: info
  dbPath: {tmp}/requests.db
providers:
  - {{id: first, name: First, type: generic-openai, apiKey: k1, baseUrl: "http://127.0.0.1:{nginx_port}/v1"}}
  - {{id: second, name: Second, type: generic-openai, apiKey: k2, baseUrl: "http://127.0.0.1:{nginx_port}/v1"}}
  - {{id: sfirst, name: Stream first, type: generic-openai, apiKey: k1,
     baseUrl: "http://127.0.0.1:{stream_port}/v1"}}
  - {{id: ssecond, name: Stream second, type: generic-openai, apiKey: k2,
     baseUrl: "http://127.0.0.1:{stream_port}/v1"}}
chains:
  - name: bench
    entries: [{{provider: first, model: upstream-model}}, {{provider: second, model: upstream-model}}]
  - name: stream
    entries: [{{provider: sfirst, model: upstream-model}}, {{provider: ssecond, model: upstream-model}}]
""")
    return path


def portkey_headers(nginx_port):
    target = f'{{"provider":"openai","api_key":"k","custom_host":"http://127.0.0.1:{nginx_port}/v1"}}'
    return {"x-portkey-config": f'{{"strategy":{{"mode":"fallback"}},"targets":[{target},{target}]}}'}


def request_rows(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    finally:
        con.close()


def callgrind_profile(build, tmp, procs, binary_args, name, port, requests, health_path):
    """Instructions per request over `requests` sequential non-streaming requests after a warm-up, and the
    self cost per object file (our binary vs Qt vs the C library)."""
    out = os.path.join(tmp, f"callgrind.{name}")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + binary_args
    p = procs.start(cmd, os.path.join(tmp, f"valgrind-{name}.log"))
    if not wait_http(port, health_path, timeout=120):
        procs.stop(p)
        return None
    load = ["whole", "--port", str(port), "--connections", "1", "--key", KEY, "--timeout-ms", "600000"]
    run_load(build, load + ["--requests", "50"])
    subprocess.run(["callgrind_control", "-z", str(p.pid)], capture_output=True)
    res, _ = run_load(build, load + ["--requests", str(requests)])
    time.sleep(1)  # the request log's writer thread commits its batch within 250 ms
    subprocess.run(["callgrind_control", "-d", str(p.pid)], capture_output=True)
    dumps = sorted((f for f in os.listdir(tmp) if f.startswith(f"callgrind.{name}.")),
                   key=lambda f: os.path.getmtime(os.path.join(tmp, f)))
    procs.stop(p, timeout=30)
    if not dumps or res.get("ok", 0) != requests:
        return None
    dump = os.path.join(tmp, dumps[-1])
    total, by_object, by_function = self_costs(dump)
    top = sorted(((c, fn, ob) for (fn, ob), c in by_function.items()), reverse=True)[:15]
    own_top = sorted(((c, fn, ob) for (fn, ob), c in by_function.items() if ob == "429chain"), reverse=True)[:10]
    return {"total": total, "per_request": total / requests if requests else 0, "by_object": by_object,
            "top": top, "own_top": own_top, "dump": dump}


def self_costs(path):
    """Self instructions per object file and per function from a callgrind dump (the format's name compression
    "(id) name" and the call lines, whose following cost line is inclusive, are handled; nothing else is)."""
    names = {"ob": {}, "fn": {}}
    ob = fn = ""
    total = 0
    by_object, by_function = {}, {}
    skip_next = False

    def name(kind, value):
        m = re.match(r"\((\d+)\)(?:\s+(.*))?", value)
        if not m:
            return value
        if m.group(2):
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), value)

    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("ob="):
                ob = os.path.basename(name("ob", line[3:].strip()))
            elif line.startswith("fn="):
                fn = name("fn", line[3:].strip())
            elif line.startswith("cob="):
                name("ob", line[4:].strip())
            elif line.startswith("cfn="):
                name("fn", line[4:].strip())
            elif line.startswith("calls="):
                skip_next = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                parts = line.split()
                if len(parts) >= 2:
                    cost = int(parts[1])
                    total += cost
                    by_object[ob] = by_object.get(ob, 0) + cost
                    by_function[(fn, ob)] = by_function.get((fn, ob), 0) + cost
    return total, by_object, by_function


def cpu_seconds(pid):
    """User + system CPU time of a process so far, from /proc (clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The client protocols that are translated at the edge, streamed through 429chain beside chat completions.
PROTOCOL_PATHS = [("chat", "/v1/chat/completions"), ("responses", "/v1/responses")]


def protocol_rows(build, chain_port, chain_pid, chunks, ramp):
    """Per protocol: TTFT p50 of one stream (ten in a row) and the proxy's CPU per streamed chunk over 200 ramped
    streams, each protocol measured the same way right after the other."""
    rows = {}
    for name, path in PROTOCOL_PATHS:
        base = ["stream", "--port", str(chain_port), "--key", KEY, "--model", "stream", "--path", path,
                "--chunks", str(chunks)]
        run_load(build, base + ["--streams", "1"])  # warm-up
        one, _ = run_load(build, base + ["--streams", "1", "--rounds", "10"])
        cpu_before = cpu_seconds(chain_pid)
        many, _ = run_load(build, base + ["--streams", "200", "--ramp-ms", str(ramp)])
        cpu = cpu_seconds(chain_pid) - cpu_before
        delivered = many.get("completed", 0) * chunks
        rows[name] = {"one": one, "many": many, "cpu_s": cpu,
                      "cpu_us_per_chunk": cpu / delivered * 1e6 if delivered else None}
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--chain-bin", default="", help="the 429chain binary to measure (default: the build's)")
    ap.add_argument("--chain-commit", default="", help="the commit --chain-bin was built from, for the report")
    ap.add_argument("--quick", action="store_true", help="short runs (a smoke test of the benchmark itself)")
    ap.add_argument("--no-peer", action="store_true", help="skip @portkey-ai/gateway")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    ap.add_argument("--label", default="", help="a name for this run in RESULTS.md (e.g. BEFORE)")
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    a = ap.parse_args()

    seconds = 3 if a.quick else 10
    chunks, interval = (10, 20) if a.quick else (20, 50)
    callgrind_requests = 200 if a.quick else 1000
    stream_levels = [1, 50, 200]
    chain_bin = a.chain_bin or os.path.join(a.build, "app", "429chain")
    tmp = tempfile.mkdtemp(prefix="429chain-bench-")
    procs = Procs()
    R = {"nonstream": {}, "rss": {}, "stream": {}, "notes": []}
    try:
        # Upstreams and the floor.
        nginx_port = free_port()
        for d in ("nginx-body", "nginx-proxy", "nginx-fastcgi", "nginx-uwsgi", "nginx-scgi"):
            os.makedirs(os.path.join(tmp, d), exist_ok=True)
        nginx = procs.start(["nginx", "-p", tmp, "-c", nginx_conf(tmp, nginx_port), "-g", "daemon off;"],
                            os.path.join(tmp, "nginx.log"))
        if not wait_http(nginx_port):
            raise RuntimeError(f"nginx did not start (see {tmp}/nginx-error.log)")
        upstream = procs.start([os.path.join(a.build, "bench", "bench_upstream"), "0", str(chunks), str(interval)],
                               os.path.join(tmp, "upstream.log"), announce_port=True)
        relay = procs.start([os.path.join(a.build, "bench", "bench_relay"), "0",
                             f"http://127.0.0.1:{nginx_port}/v1/chat/completions"],
                            os.path.join(tmp, "relay.log"), announce_port=True)

        # 429chain: exec to first served /health, then idle RSS.
        chain_port = free_port()
        cfg = chain_config(tmp, chain_port, nginx_port, upstream.port)
        starts = []
        for i in range(3):  # the start time is small and noisy: the median of three
            port_i = chain_port if i == 2 else free_port()
            res, _ = run_load(a.build, ["health", "--port", str(port_i), "--timeout-ms", "20000", "--log",
                                        os.path.join(tmp, f"429chain-{i}.log"), "--", chain_bin, "--headless",
                                        "-c", cfg, "-p", str(port_i)])
            pid = int(res.get("pid", 0))
            if pid:
                procs.adopt(pid)
            starts.append(res.get("start_ms", -1))
            if i < 2 and pid:
                procs.stop(pid)
        chain_pid = pid
        R["start_ms"] = sorted(starts)[1]
        time.sleep(1.0)
        R["rss"]["429chain_idle"] = rss_mb(chain_pid)
        R["rss"]["relay_idle"] = rss_mb(relay.pid)
        db = os.path.join(tmp, "requests.db")

        # The peer, if npm can install it.
        peer = None
        if not a.no_peer:
            try:
                entry = os.path.join(PEER_DIR, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js")
                if not os.path.exists(entry):
                    os.makedirs(PEER_DIR, exist_ok=True)
                    if not os.path.exists(os.path.join(PEER_DIR, "package.json")):
                        with open(os.path.join(PEER_DIR, "package.json"), "w") as f:
                            f.write('{"private": true}\n')
                    log("npm install @portkey-ai/gateway (into bench/.peer, git-ignored)")
                    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                                    "@portkey-ai/gateway"], cwd=PEER_DIR, check=True, timeout=600)
                pk_port = free_port()
                env = dict(os.environ, NODE_ENV="production")
                peer = procs.start(["node", entry, f"--port={pk_port}", "--headless"], os.path.join(tmp, "peer.log"),
                                   env=env)
                if not wait_http(pk_port, timeout=30):
                    raise RuntimeError("the gateway did not answer within 30 s (see peer.log)")
                peer.port = pk_port
                time.sleep(1.0)
                R["rss"]["peer_idle"] = tree_rss_mb(peer.pid)
                pv = subprocess.run(["node", "-p", "require('./node_modules/@portkey-ai/gateway/package.json').version"],
                                    cwd=PEER_DIR, capture_output=True, text=True).stdout.strip()
                R["peer_version"] = pv
            except Exception as e:  # noqa: BLE001 - any failure is reported, never faked
                R["notes"].append(f"@portkey-ai/gateway could not run: {e}")
                peer = None

        # Non-streaming: direct, floor, 429chain, peer; wrk at 1 and 32 connections.
        targets = [("direct", f"http://127.0.0.1:{nginx_port}/v1/chat/completions", {}, nginx.pid),
                   ("relay", f"http://127.0.0.1:{relay.port}/v1/chat/completions", {}, relay.pid),
                   ("429chain", f"http://127.0.0.1:{chain_port}/v1/chat/completions",
                    {"Authorization": f"Bearer {KEY}"}, chain_pid)]
        if peer:
            targets.append(("portkey", f"http://127.0.0.1:{peer.port}/v1/chat/completions",
                            dict(portkey_headers(nginx_port), Authorization="Bearer k"), peer.pid))
        rows_before = request_rows(db)
        served = 0
        for name, url, headers, pid in targets:
            log(f"non-streaming: {name}")
            wrk(tmp, url, 32, 1, headers)  # warm-up: connections, pools, caches
            R["nonstream"][name] = {}
            for conns in (1, 32):
                with RssSampler(pid) as sampler:
                    res = wrk(tmp, url, conns, seconds, headers)
                res["rss_peak"] = sampler.peak
                R["nonstream"][name][conns] = res
        # The request log keeps up: an exact count through bench_load (wrk does not count requests it cuts off).
        time.sleep(1.0)
        rows_mid = request_rows(db)
        log_requests = 2000 if a.quick else 10000
        res, _ = run_load(a.build, ["whole", "--port", str(chain_port), "--requests", str(log_requests),
                                    "--connections", "32", "--key", KEY])
        served = int(res.get("ok", 0))
        R["log_rps"] = res.get("rps", 0)
        deadline = time.time() + 15
        rows_after = request_rows(db)
        while rows_after - rows_mid < served and time.time() < deadline:
            time.sleep(0.1)
            rows_after = request_rows(db)
        R["log"] = {"served": served, "rows": rows_after - rows_mid, "failed": int(res.get("failed", 0)),
                    "rows_total": rows_after - rows_before}

        # Streaming, direct vs through 429chain.
        R["stream_params"] = (chunks, interval)
        ramp = chunks * interval // 2  # every stream is still open when the last one starts
        # Warm-up, as for wrk: the first stream through 429chain opens its first upstream connection.
        run_load(a.build, ["stream", "--port", str(upstream.port), "--streams", "1", "--chunks", str(chunks)])
        run_load(a.build, ["stream", "--port", str(chain_port), "--key", KEY, "--model", "stream", "--streams", "1",
                           "--chunks", str(chunks)])
        for mode, ramp_ms in (("ramped", ramp), ("burst", 0)):
            for n in stream_levels:
                if mode == "burst" and n == 1:
                    continue  # the same as ramped
                log(f"streaming: {n} concurrent, {mode}")
                # One stream is one sample: ten in a row give its p50 some meaning.
                common = ["--streams", str(n), "--chunks", str(chunks), "--ramp-ms", str(ramp_ms if n > 1 else 0),
                          "--rounds", "10" if n == 1 else "1"]
                direct, _ = run_load(a.build, ["stream", "--port", str(upstream.port)] + common)
                with RssSampler(chain_pid) as sampler:
                    proxied, _ = run_load(a.build, ["stream", "--port", str(chain_port), "--key", KEY, "--model",
                                                    "stream"] + common)
                R["stream"][(mode, n)] = {"direct": direct, "proxied": proxied, "rss_peak": sampler.peak}
        R["stream_ramp"] = ramp
        log("streaming: per client protocol")
        R["protocols"] = protocol_rows(a.build, chain_port, chain_pid, chunks, ramp)
        # The upstream pool deletes the managers a burst added after 10 s idle: measure after that.
        time.sleep(13.0)
        R["rss"]["429chain_after"] = rss_mb(chain_pid)
        R["rss"]["429chain_stream_peak"] = max(R["stream"][("ramped", 200)]["rss_peak"],
                                               R["stream"][("burst", 200)]["rss_peak"])
        R["rss"]["relay_after"] = rss_mb(relay.pid)
        if peer:
            R["rss"]["peer_after"] = tree_rss_mb(peer.pid)
        procs.stop(chain_pid)
        if peer:
            procs.stop(peer)

        # Instructions per request (valgrind --tool=callgrind), 429chain and the floor.
        if not a.no_callgrind:
            log(f"callgrind: {callgrind_requests} requests each")
            cg_port = free_port()
            cg_cfg = chain_config(os.path.join(tmp), cg_port, nginx_port, upstream.port)
            R["cg_chain"] = callgrind_profile(a.build, tmp, procs, [chain_bin, "--headless", "-c", cg_cfg], "chain",
                                              cg_port, callgrind_requests, "/health")
            procs.stop(relay)
            relay_port = free_port()
            R["cg_relay"] = callgrind_profile(
                a.build, tmp, procs,
                [os.path.join(a.build, "bench", "bench_relay"), str(relay_port),
                 f"http://127.0.0.1:{nginx_port}/v1/chat/completions"], "relay", relay_port, callgrind_requests,
                "/")
            R["callgrind_requests"] = callgrind_requests
    finally:
        procs.stop_all()
    report(R, a)
    if not os.environ.get("BENCH_KEEP_TMP"):
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"temporary files kept in {tmp}")


def fmt(v, digits=2, unit=""):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}{unit}"


def verdict(ok):
    if ok is None:
        return "not measured"
    return "met" if ok else "**missed**"


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    qt = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libqt6core6"], capture_output=True,
                        text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} CPUs, {mem:.0f} GiB, Linux {platform.release()}, Qt {qt}",
            commit + (" (with uncommitted changes)" if dirty else ""))


def report(R, a):
    lines = []
    out = lines.append
    mach, commit = machine()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    what = (f"429chain built from commit {a.chain_commit}, bench programs from {commit}" if a.chain_commit
            else f"commit {commit}")
    out(f"## {a.label + ': ' if a.label else ''}{now}, {what}{' (quick run)' if a.quick else ''}")
    out("")
    out(f"Machine: {mach}. Build: {os.path.basename(a.build)} (RelWithDebInfo, -O2).")
    out("")
    ns = R["nonstream"]
    out("### Non-streaming (wrk -t1, POST /v1/chat/completions, nginx upstream)")
    out("")
    out("| target | c1 req/s | c1 p50 ms | c1 p99 ms | c32 req/s | c32 p50 ms | c32 p99 ms | errors | peak RSS MB |")
    out("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    names = {"direct": "direct (nginx)", "relay": "bare relay (floor)", "429chain": "429chain (2-entry chain, log on)",
             "portkey": f"@portkey-ai/gateway {R.get('peer_version', '')} (2-target fallback)"}
    for name, runs in ns.items():
        c1, c32 = runs[1], runs[32]
        out(f"| {names[name]} | {fmt(c1['rps'], 0)} | {fmt(c1['p50'], 3)} | {fmt(c1['p99'], 3)} | "
            f"{fmt(c32['rps'], 0)} | {fmt(c32['p50'], 3)} | {fmt(c32['p99'], 3)} | "
            f"{c1['errors'] + c32['errors']} | {fmt(max(c1['rss_peak'], c32['rss_peak']), 1)} |")
    out("")
    chain, relay, direct = ns["429chain"], ns["relay"], ns["direct"]
    ratio = chain[32]["rps"] / relay[32]["rps"] if relay[32]["rps"] else 0
    added_p50 = (chain[1]["p50"] or 0) - (direct[1]["p50"] or 0)
    relay_added = (relay[1]["p50"] or 0) - (direct[1]["p50"] or 0)
    out(f"429chain / floor at c32: **{ratio:.2f}×**; added p50 at c1 over direct: **{added_p50:.3f} ms** "
        f"(the floor adds {relay_added:.3f} ms).")
    if "portkey" in ns:
        pk = ns["portkey"]
        out(f"429chain / @portkey-ai/gateway at c32: {chain[32]['rps'] / pk[32]['rps']:.1f}× the requests/s.")
    out("")

    sp = R["stream_params"]
    out(f"### Streaming ({sp[0]} chunks {sp[1]} ms apart per stream; bench_load, times in ms)")
    out("")
    out(f"*ramped*: the streams start evenly over {R['stream_ramp']} ms, so all of them are open at once while "
        "each one's setup meets a running proxy (steady concurrency); *burst*: all start in the same "
        "millisecond, so the last one waits for the setup of all the others on the engine thread.")
    out("")
    out("One stream is measured ten times in a row; every other row is one run. A warm-up stream goes first.")
    out("")
    out("| start | streams | completed direct | completed 429chain | TTFT p50 direct | TTFT p50 429chain | "
        "added TTFT p50 | gap p99 direct | gap p99 429chain | added gap p99 | delivery p99 direct | "
        "delivery p99 429chain | 429chain peak RSS MB |")
    out("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    worst_ttft, worst_gap, all_complete = 0.0, 0.0, True
    for (mode, n), s in R["stream"].items():
        d, p = s["direct"], s["proxied"]
        add_ttft = p.get("ttft_p50_ms", 0) - d.get("ttft_p50_ms", 0)
        add_gap = p.get("gap_p99_ms", 0) - d.get("gap_p99_ms", 0)
        if mode == "ramped":
            worst_ttft, worst_gap = max(worst_ttft, add_ttft), max(worst_gap, add_gap)
        total_d, total_p = int(d.get("streams", n)), int(p.get("streams", n))  # streams × rounds
        all_complete = all_complete and p.get("completed", 0) == total_p and d.get("completed", 0) == total_d
        out(f"| {mode} | {n} | {int(d.get('completed', 0))}/{total_d} | {int(p.get('completed', 0))}/{total_p} | "
            f"{fmt(d.get('ttft_p50_ms'), 3)} | {fmt(p.get('ttft_p50_ms'), 3)} | {add_ttft:.3f} | "
            f"{fmt(d.get('gap_p99_ms'), 2)} | {fmt(p.get('gap_p99_ms'), 2)} | {add_gap:.2f} | "
            f"{fmt(d.get('delivery_p99_ms'), 2)} | {fmt(p.get('delivery_p99_ms'), 2)} | {fmt(s['rss_peak'], 1)} |")
    out("")

    proto = R.get("protocols") or {}
    proto_checks = []
    if proto:
        out("### Streamed client protocols through 429chain (translation at the edge)")
        out("")
        out("TTFT p50: one stream ten times in a row. CPU: the 429chain process's user + system time over 200 "
            f"ramped streams of {sp[0]} chunks, divided by the chunks delivered.")
        out("")
        out("| protocol | completed (1 × 10) | TTFT p50 ms | added vs chat ms | completed (200) | CPU µs per chunk | "
            "vs chat |")
        out("|---|---:|---:|---:|---:|---:|---:|")
        chat = proto.get("chat", {})
        for name, row in proto.items():
            one, many = row["one"], row["many"]
            added = one.get("ttft_p50_ms", 0) - chat.get("one", {}).get("ttft_p50_ms", 0)
            base_cpu, cpu = chat.get("cpu_us_per_chunk"), row["cpu_us_per_chunk"]
            rel = (cpu / base_cpu - 1) * 100 if cpu and base_cpu else None
            out(f"| {name} | {int(one.get('completed', 0))}/{int(one.get('streams', 10))} | "
                f"{fmt(one.get('ttft_p50_ms'), 3)} | {added:.3f} | {int(many.get('completed', 0))}/"
                f"{int(many.get('streams', 200))} | {fmt(cpu, 1)} | {'—' if rel is None else f'{rel:+.1f}%'} |")
            if name != "chat":
                proto_checks.append((f"{name}: added TTFT p50 over chat ≤ 0.3 ms", f"{added:.3f} ms", added <= 0.3))
                proto_checks.append((f"{name}: CPU per chunk ≤ chat + 5%",
                                     "not measured" if rel is None else f"{rel:+.1f}%",
                                     None if rel is None else rel <= 5.0))
        out("")

    rss = R["rss"]
    out("### Memory and start")
    out("")
    out(f"- 429chain RSS: idle {fmt(rss.get('429chain_idle'), 1)} MB, peak at 200 streams "
        f"{fmt(rss.get('429chain_stream_peak'), 1)} MB, 13 s after the load {fmt(rss.get('429chain_after'), 1)} MB.")
    out(f"- Bare relay RSS: idle {fmt(rss.get('relay_idle'), 1)} MB, after the load {fmt(rss.get('relay_after'), 1)} MB.")
    if "peer_idle" in rss:
        out(f"- @portkey-ai/gateway RSS: idle {fmt(rss.get('peer_idle'), 1)} MB, peak under load "
            f"{fmt(max(ns['portkey'][1]['rss_peak'], ns['portkey'][32]['rss_peak']), 1)} MB, after "
            f"{fmt(rss.get('peer_after'), 1)} MB.")
    out(f"- 429chain exec to first served /health: {fmt(R['start_ms'], 1)} ms (median of three starts).")
    lg = R["log"]
    out(f"- Request log: {lg['served']} requests served at 32 connections ({fmt(R['log_rps'], 0)} req/s), "
        f"{lg['rows']} rows written ({lg['rows_total']} rows for everything this run sent, wrk included).")
    out("")

    cg, cr = R.get("cg_chain"), R.get("cg_relay")
    own_share = None
    if cg and cr:
        n = R["callgrind_requests"]
        own = cg["by_object"].get("429chain", 0)
        own_share = own / cg["total"] if cg["total"] else 0
        beyond = (cg["per_request"] - cr["per_request"]) / cg["per_request"] if cg["per_request"] else 0
        out(f"### Instructions per request (callgrind, {n} sequential requests after a warm-up)")
        out("")
        out(f"- bare relay: {cg_fmt(cr['per_request'])} per request; 429chain: {cg_fmt(cg['per_request'])} per request "
            f"({cg['per_request'] / cr['per_request']:.2f}× the floor).")
        out(f"- in 429chain's own code (self cost in the 429chain binary): {own_share * 100:.1f}%; "
            f"beyond the floor (everything 429chain adds, Qt/SQLite work it causes included): {beyond * 100:.1f}%.")
        out("- 429chain by object file: " + ", ".join(
            f"{k} {v / cg['total'] * 100:.1f}%" for k, v in sorted(cg["by_object"].items(), key=lambda kv: -kv[1])[:8]))
        out("")
        out("Top functions of the 429chain process (self cost, all threads):")
        out("")
        out("| instructions per request | function | object |")
        out("|---:|---|---|")
        for cost, fn, obj in cg["top"]:
            out(f"| {cg_fmt(cost / n)} | `{fn[:100]}` | {obj} |")
        out("")
        out("Top functions in 429chain's own code:")
        out("")
        out("| instructions per request | function |")
        out("|---:|---|")
        for cost, fn, obj in cg["own_top"]:
            out(f"| {cg_fmt(cost / n)} | `{fn[:100]}` |")
        out("")
    elif not a.no_callgrind:
        out("### Instructions per request: callgrind did not produce a profile (see the temporary folder).")
        out("")

    out("### Targets")
    out("")
    chain_idle = rss.get("429chain_idle") or 0
    t = [
        ("non-streaming c32 ≥ 0.85 × floor", f"{ratio:.2f}×", ratio >= 0.85),
        ("added p50 at c1 ≤ 1.0 ms", f"{added_p50:.3f} ms", added_p50 <= 1.0),
        ("own code ≤ 20% of instructions", f"{own_share * 100:.1f}%" if own_share is not None else "not measured",
         None if own_share is None else own_share <= 0.20),
        ("added TTFT p50 ≤ 2 ms (ramped, worst of 1/50/200)", f"{worst_ttft:.3f} ms", worst_ttft <= 2.0),
        ("every stream completes with every chunk (all runs)", "yes" if all_complete else "no", all_complete),
        ("added gap p99 ≤ 5 ms (ramped, worst of 1/50/200)", f"{worst_gap:.2f} ms", worst_gap <= 5.0),
        ("RSS ≤ 80 MB at 200 streams", f"{fmt(rss.get('429chain_stream_peak'), 1)} MB",
         (rss.get("429chain_stream_peak") or 999) <= 80),
        ("RSS back near idle after (≤ idle + 10 MB)", f"{fmt(rss.get('429chain_after'), 1)} MB",
         (rss.get("429chain_after") or 999) <= chain_idle + 10),
        ("idle RSS ≤ 30 MB", f"{fmt(chain_idle, 1)} MB", chain_idle <= 30),
        ("start to first served /health ≤ 200 ms", f"{fmt(R['start_ms'], 1)} ms", 0 <= R["start_ms"] <= 200),
        ("request log: rows written == requests served", f"{lg['rows']} / {lg['served']}",
         lg["rows"] == lg["served"] and lg["failed"] == 0),
    ] + proto_checks
    out("| target | measured | |")
    out("|---|---:|---|")
    for name, val, ok in t:
        out(f"| {name} | {val} | {verdict(ok)} |")
    out("")
    for note in R["notes"]:
        out(f"Note: {note}")
        out("")
    text = "\n".join(lines)
    print(text)
    write_results(a.results, text, a.label)


def cg_fmt(n):
    return f"{n / 1e6:.2f} M" if n >= 1e5 else f"{n / 1e3:.1f} k"


def write_results(path, section, label):
    """RESULTS.md keeps its header and any labelled runs (BEFORE, ...); a new run replaces the one with its label,
    an unlabelled run replaces the "Latest" section."""
    header = ("# 429chain benchmark results\n\nWritten by `scripts/bench` (see bench/run.py for what is measured and "
              "how). Every figure comes from one run on one machine, side by side; compare ratios and differences, "
              "not absolute times across machines.\n")
    sections = {}
    order = []
    if os.path.exists(path):
        text = open(path).read()
        for m in re.finditer(r"^<!-- run: (.*?) -->\n(.*?)(?=^<!-- run: |\Z)", text, re.M | re.S):
            sections[m.group(1)] = m.group(2).rstrip() + "\n"
            order.append(m.group(1))
    key = label or "Latest"
    if key not in order:
        order.insert(0, key) if key == "Latest" else order.append(key)
    sections[key] = section.rstrip() + "\n"
    with open(path, "w") as f:
        f.write(header)
        for k in order:
            f.write(f"\n<!-- run: {k} -->\n{sections[k]}")
    print(f"\nwritten: {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
