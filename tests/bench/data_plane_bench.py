#!/usr/bin/env python3
"""Runs every benchmark in tests/bench against a private sluiced and reports the figures.

`make bench` (scripts/bench.sh) builds the programs and calls this script. It starts its
own sluiced in a temporary directory with its own control socket, picks free loopback
ports, writes the rules and quotas it needs through sluicectl, runs each measurement
plain and through Sluice in the same run, prints a table and writes a JSON list of
{"name", "value", "unit", "baseline", "ratio"} objects (plus "goal" and "met" where the
issue sets a goal). All traffic stays on 127.0.0.1. Every subprocess is bounded in time,
and everything started here is stopped on the way out.

Figures:
  tcp.throughput.relay      one iperf3 TCP stream through the relay vs direct (goal ratio >= 0.8)
  tcp.throughput.socat      the same stream through a socat TCP forwarder vs direct (peer baseline)
  udp.pps.{64,1400}B.relay  datagrams/s received by a sink, relayed vs direct (udp_bench;
                            goal ratio >= 0.5 at 1400 bytes)
  connect.{p50,p99}.relay   blocking connect()+close() latency, relayed vs direct (connect_bench)
  connect.{p50,p99}.added   relayed - direct (goal p99 <= 300 us)
  sendto.preloaded          ns per pass-through sendto() with the provider loaded vs plain
                            (sendto_bench, best of 3 each)
  sendto.overhead           (preloaded / plain - 1) * 100 (goal <= 5 %)
  ratelimit.error.R         |achieved - R| / R of a curl download through the relay under
                            `sluicectl quota set --rate-down R`, with trickle's error at the
                            same rate as the baseline (goal <= 3 %)
  matcher.*                 build/linux/bin/matcher_bench, CompiledMatcher vs LinearMatcher

Exit status: 0 when every figure was measured, 1 when some could not be (the others
are still reported), 2 for bad usage.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

LOOPBACK = "127.0.0.1"


class Unmeasured(Exception):
    """A measurement could not be taken; the message says why."""


def log(message):
    print(f"bench: {message}", flush=True)


# ---------------------------------------------------------------------------------
# Processes: everything runs in its own session so that a timeout or the final
# cleanup can stop it together with whatever it started (sluice-run, trickle).

class Processes:
    def __init__(self):
        self.background = []

    @staticmethod
    def _stop_group(process, grace=2.0):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)

    def run(self, argv, timeout, env=None, what=None, ok=(0,)):
        """Runs argv to completion within `timeout` seconds; returns (stdout, stderr).
        Raises Unmeasured on a timeout or an exit status not in `ok`."""
        what = what or os.path.basename(argv[0])
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=env, text=True,
                                   start_new_session=True)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._stop_group(process, grace=0.5)
            process.communicate()
            raise Unmeasured(f"{what} did not finish within {timeout:.0f} s")
        except BaseException:
            self._stop_group(process, grace=0.5)
            raise
        if process.returncode not in ok:
            detail = (err.strip() or out.strip()).splitlines()[-3:]
            raise Unmeasured(f"{what} exited with status {process.returncode}: {' | '.join(detail)}")
        return out, err

    def start(self, argv, log_path, env=None):
        """Starts a background server; its output goes to log_path."""
        with open(log_path, "ab") as sink:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
                                       env=env, start_new_session=True)
        self.background.append(process)
        return process

    def stop(self, process, grace=2.0):
        self._stop_group(process, grace)
        if process in self.background:
            self.background.remove(process)

    def stop_all(self):
        for process in list(self.background):
            self.stop(process, grace=1.0)


# ---------------------------------------------------------------------------------
# Loopback ports.

def listening(port):
    """True when a TCP socket listens on 127.0.0.1:port (or the wildcard), per /proc/net/tcp.
    (Probing with a connection would be taken for a client by one-shot servers like iperf3 -1.)"""
    wanted = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1] in wanted and fields[3] == "0A":  # TCP_LISTEN
                    return True
    except OSError:
        pass
    return False


def wait_listening(port, process, timeout=10.0, what="server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listening(port):
            return
        if process.poll() is not None:
            raise Unmeasured(f"{what} exited (status {process.returncode}) before listening on port {port}")
        time.sleep(0.02)
    raise Unmeasured(f"{what} did not listen on port {port} within {timeout:.0f} s")


class Ports:
    def __init__(self):
        self.taken = set()

    def free(self):
        """A port that is free for both TCP and UDP on 127.0.0.1 right now."""
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((LOOPBACK, 0))
                port = s.getsockname()[1]
            if port in self.taken:
                continue
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind((LOOPBACK, port))
            except OSError:
                continue
            self.taken.add(port)
            return port
        raise RuntimeError("no free loopback port")


# ---------------------------------------------------------------------------------
# The private sluiced.

class Sluice:
    def __init__(self, bin_dir, work, processes):
        self.bin = bin_dir
        self.work = work
        self.procs = processes
        self.sock = os.path.join(work, "control.sock")
        self.state = os.path.join(work, "state")
        self.pid = None
        self.env = dict(os.environ, SLUICE_CONTROL=self.sock)

    def ctl(self, *args, parse=True):
        out, _ = self.procs.run([os.path.join(self.bin, "sluicectl"), "--control", self.sock, *args],
                                timeout=20, env=self.env, what="sluicectl " + " ".join(args[:2]))
        return json.loads(out) if parse else out

    def start(self):
        self.procs.run([os.path.join(self.bin, "sluiced"), "--state-dir", self.state, "--control", self.sock],
                       timeout=30, env=self.env, what="sluiced")
        self.pid = int(self.ctl("status", "--json")["pid"])
        log(f"sluiced pid {self.pid}, control socket {self.sock}")

    def stop(self):
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        log(f"sluiced (pid {pid}) did not stop on SIGTERM; killing it")
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def relay_rule(self, app, proto, port):
        rule = self.ctl("rule", "add", "--action", "relay", "--app", app, "--proto", proto,
                        "--dst", LOOPBACK, "--port", str(port),
                        "--comment", "make bench", "--json")
        return rule["id"]

    def engine(self):
        return self.ctl("stats", "--json").get("engine", {})

    def run_command(self, argv):
        """argv run through sluice-run (the provider preloaded)."""
        return [os.path.join(self.bin, "sluice-run"), "--control", self.sock, "--", *argv]


def executable(name):
    path = shutil.which(name)
    if not path:
        raise Unmeasured(f"{name} is not installed")
    return os.path.realpath(path)


# ---------------------------------------------------------------------------------
# Results.

class Results:
    def __init__(self):
        self.rows = []
        self.failures = []

    def add(self, name, value, unit, baseline=None, ratio=None, goal=None):
        """goal: (subject, op, bound), subject "value" or "ratio", op "<=" or ">="."""
        if ratio is None and value is not None and baseline not in (None, 0):
            ratio = value / baseline
        row = {"name": name, "value": value, "unit": unit, "baseline": baseline, "ratio": ratio}
        if goal is not None:
            subject, op, bound = goal
            row["goal"] = f"{subject} {op} {bound:g}"
            actual = row[subject]
            row["met"] = None if actual is None else (actual <= bound if op == "<=" else actual >= bound)
        self.rows.append(row)

    def failed(self, names_units_goals, reason):
        for name, unit, goal in names_units_goals:
            self.add(name, None, unit, goal=goal)
        self.failures.append(reason)
        log(f"NOT MEASURED: {reason}")

    def write(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(self.rows, f, indent=2)
            f.write("\n")

    def table(self):
        def fmt(x):
            if x is None:
                return "-"
            if isinstance(x, bool):
                return "yes" if x else "NO"
            if isinstance(x, int):
                return str(x)
            if x == 0:
                return "0"
            if abs(x) >= 1e6 or abs(x) < 1e-3:
                return f"{x:.3g}"
            if abs(x) >= 100:
                return f"{x:.0f}"
            return f"{x:.4g}" if abs(x) < 1 else f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"
        header = ["name", "value", "unit", "baseline", "ratio", "goal", "met"]
        lines = [[r["name"], fmt(r["value"]) if r["value"] is not None else "n/a", r["unit"],
                  fmt(r["baseline"]), fmt(r["ratio"]), r.get("goal", "-"), fmt(r.get("met"))]
                 for r in self.rows]
        widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
        out = []
        for i, line in enumerate([header] + lines):
            cells = [str(c).ljust(w) if j in (0, 2, 5) else str(c).rjust(w)
                     for j, (c, w) in enumerate(zip(line, widths))]
            out.append("  ".join(cells).rstrip())
            if i == 0:
                out.append("  ".join("-" * w for w in widths))
        return "\n".join(out)


# ---------------------------------------------------------------------------------
# The benchmarks.

class Bench:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.bin = os.path.abspath(args.bin)
        self.procs = Processes()
        self.ports = Ports()
        self.sluice = Sluice(self.bin, work, self.procs)
        self.results = Results()
        self.have_provider = all(os.path.exists(os.path.join(self.bin, f))
                                 for f in ("sluice-run", "libsluice_preload.so"))

    def program(self, name):
        path = os.path.join(self.bin, name)
        if not os.access(path, os.X_OK):
            raise Unmeasured(f"{path} is not built")
        return os.path.realpath(path)

    def need_provider(self):
        if not self.have_provider:
            raise Unmeasured(f"the provider is not built ({self.bin}/sluice-run, libsluice_preload.so)")

    def through_relay(self, before, counter, at_least, what):
        """Checks that the relay engine's `counter` grew by at_least since `before`."""
        grown = self.sluice.engine().get(counter, 0) - before.get(counter, 0)
        if grown < at_least:
            raise Unmeasured(f"{what}: the relay's {counter} grew by {grown}, expected at least {at_least}:"
                             " the traffic did not go through the relay")

    # -- TCP throughput: iperf3 direct, relayed, and through socat ---------------------

    def iperf3_tcp(self, client_port, server_port, preload, what):
        iperf3 = executable("iperf3")
        server = self.procs.start([iperf3, "-s", "-1", "-B", LOOPBACK, "-p", str(server_port)],
                                  os.path.join(self.work, "iperf3-server.log"))
        try:
            wait_listening(server_port, server, what="iperf3 server")
            argv = [iperf3, "-c", LOOPBACK, "-p", str(client_port), "-t", str(self.args.tcp_seconds), "--json"]
            if preload:
                argv = self.sluice.run_command(argv)
            out, _ = self.procs.run(argv, timeout=self.args.tcp_seconds + 20, env=self.sluice.env, what=what)
            try:
                report = json.loads(out)
                bps = float(report["end"]["sum_received"]["bits_per_second"])
            except (ValueError, KeyError, TypeError) as e:
                raise Unmeasured(f"{what}: no throughput in iperf3's report ({e})")
            if "error" in report:
                raise Unmeasured(f"{what}: iperf3: {report['error']}")
            return bps / 1e9
        finally:
            self.procs.stop(server)

    def tcp_throughput(self):
        goal = ("ratio", ">=", 0.8)
        port = self.ports.free()
        direct = None
        try:
            direct = self.iperf3_tcp(port, port, False, "iperf3 direct")
            log(f"TCP direct: {direct:.2f} Gbit/s")
        except Unmeasured as e:
            self.results.failed([("tcp.throughput.relay", "Gbit/s", goal), ("tcp.throughput.socat", "Gbit/s", None)],
                                f"TCP throughput direct: {e}")
            return
        try:
            self.need_provider()
            self.sluice.relay_rule(executable("iperf3"), "tcp", port)
            before = self.sluice.engine()
            relayed = self.iperf3_tcp(port, port, True, "iperf3 relayed")
            self.through_relay(before, "tcp_accepted", 2, "iperf3 relayed")
            log(f"TCP relayed: {relayed:.2f} Gbit/s")
            self.results.add("tcp.throughput.relay", relayed, "Gbit/s", direct, goal=goal)
        except Unmeasured as e:
            self.results.failed([("tcp.throughput.relay", "Gbit/s", goal)], f"TCP throughput relayed: {e}")
        try:
            forward = self.ports.free()
            socat = self.procs.start([executable("socat"), f"TCP-LISTEN:{forward},bind={LOOPBACK},reuseaddr,fork",
                                      f"TCP:{LOOPBACK}:{port}"], os.path.join(self.work, "socat.log"))
            try:
                wait_listening(forward, socat, what="socat")
                through = self.iperf3_tcp(forward, port, False, "iperf3 through socat")
            finally:
                self.procs.stop(socat)
            log(f"TCP through socat: {through:.2f} Gbit/s")
            self.results.add("tcp.throughput.socat", through, "Gbit/s", direct)
        except Unmeasured as e:
            self.results.failed([("tcp.throughput.socat", "Gbit/s", None)], f"TCP throughput through socat: {e}")

    # -- UDP datagrams per second: udp_bench direct and relayed -----------------------

    def udp_bench(self, port, size, preload, what):
        argv = [self.program("udp_bench"), "--port", str(port), "--size", str(size),
                "--seconds", str(self.args.udp_seconds), "--warmup", "0.5"]
        if preload:
            argv = self.sluice.run_command(argv)
        out, _ = self.procs.run(argv, timeout=self.args.udp_seconds + 20, env=self.sluice.env, what=what)
        return json.loads(out)

    def udp_rate(self):
        port = self.ports.free()
        rule = None
        for size in (64, 1400):
            name = f"udp.pps.{size}B.relay"
            goal = ("ratio", ">=", 0.5) if size == 1400 else None
            try:
                direct = self.udp_bench(port, size, False, f"udp_bench {size} B direct")
                log(f"UDP {size} B direct: {direct['received_pps']:.0f} received/s "
                    f"({direct['sent_pps']:.0f} sent/s)")
                self.need_provider()
                if rule is None:
                    rule = self.sluice.relay_rule(self.program("udp_bench"), "udp", port)
                before = self.sluice.engine()
                relayed = self.udp_bench(port, size, True, f"udp_bench {size} B relayed")
                self.through_relay(before, "udp_associations", 1, f"udp_bench {size} B relayed")
                log(f"UDP {size} B relayed: {relayed['received_pps']:.0f} received/s "
                    f"({relayed['sent_pps']:.0f} sent/s)")
                self.results.add(name, relayed["received_pps"], "datagrams/s", direct["received_pps"], goal=goal)
            except (Unmeasured, ValueError, KeyError) as e:
                self.results.failed([(name, "datagrams/s", goal)], f"UDP {size} B: {e}")

    # -- connect latency: connect_bench direct and relayed ----------------------------

    def connect_latency(self):
        names = [("connect.p50.relay", "us", None), ("connect.p99.relay", "us", None),
                 ("connect.p50.added", "us", None), ("connect.p99.added", "us", ("value", "<=", 300))]
        port = self.ports.free()
        count = self.args.connects
        argv = [self.program("connect_bench"), "--port", str(port), "--count", str(count)]
        try:
            direct = json.loads(self.procs.run(argv, timeout=120, env=self.sluice.env, what="connect_bench direct")[0])
            log(f"connect direct: p50 {direct['p50_us']:.1f} us, p99 {direct['p99_us']:.1f} us")
            self.need_provider()
            self.sluice.relay_rule(self.program("connect_bench"), "tcp", port)
            before = self.sluice.engine()
            relayed = json.loads(self.procs.run(self.sluice.run_command(argv), timeout=180, env=self.sluice.env,
                                                what="connect_bench relayed")[0])
            self.through_relay(before, "tcp_accepted", count, "connect_bench relayed")
            log(f"connect relayed: p50 {relayed['p50_us']:.1f} us, p99 {relayed['p99_us']:.1f} us"
                f" ({relayed['failures']} failures)")
        except (Unmeasured, ValueError, KeyError) as e:
            self.results.failed(names, f"connect latency: {e}")
            return
        for q in ("p50", "p99"):
            self.results.add(f"connect.{q}.relay", relayed[f"{q}_us"], "us", direct[f"{q}_us"])
        for (q, goal) in (("p50", None), ("p99", ("value", "<=", 300))):
            self.results.add(f"connect.{q}.added", relayed[f"{q}_us"] - direct[f"{q}_us"], "us", goal=goal)

    # -- pass-through sendto: sendto_bench plain and preloaded ------------------------

    def sendto_overhead(self):
        names = [("sendto.preloaded", "ns/call", None), ("sendto.overhead", "%", ("value", "<=", 5))]
        argv = [self.program("sendto_bench"), "--count", str(self.args.sendto_calls), "--max-seconds", "2",
                "--size", "64"]
        plain, preloaded = [], []
        try:
            self.need_provider()
            # A pass-through figure is only worth something if the provider was loaded.
            maps, _ = self.procs.run(self.sluice.run_command([executable("cat"), "/proc/self/maps"]), timeout=20,
                                     env=self.sluice.env, what="sluice-run cat /proc/self/maps")
            if "libsluice_preload" not in maps:
                raise Unmeasured("sluice-run did not load libsluice_preload.so into the program")
            before = self.sluice.engine()
            for _ in range(3):  # interleaved, so that drift in the machine's load hits both sides
                plain.append(json.loads(self.procs.run(argv, timeout=30, env=self.sluice.env,
                                                       what="sendto_bench plain")[0])["ns_per_call"])
                preloaded.append(json.loads(self.procs.run(self.sluice.run_command(argv), timeout=30,
                                                           env=self.sluice.env,
                                                           what="sendto_bench preloaded")[0])["ns_per_call"])
            after = self.sluice.engine()
            if after.get("udp_associations", 0) != before.get("udp_associations", 0):
                raise Unmeasured("sendto_bench preloaded was relayed, not passed through")
        except (Unmeasured, ValueError, KeyError) as e:
            self.results.failed(names, f"sendto overhead: {e}")
            return
        log(f"sendto plain: {', '.join(f'{x:.0f}' for x in plain)} ns/call; "
            f"preloaded: {', '.join(f'{x:.0f}' for x in preloaded)} ns/call (best of 3 kept)")
        best_plain, best_preloaded = min(plain), min(preloaded)
        self.results.add("sendto.preloaded", best_preloaded, "ns/call", best_plain)
        self.results.add("sendto.overhead", (best_preloaded / best_plain - 1) * 100, "%", goal=("value", "<=", 5))

    # -- rate limits: a curl download through the relay under a quota, and under trickle --

    RATES = [("64KiB/s", 64 * 1024), ("1MiB/s", 1024 * 1024), ("100MiB/s", 100 * 1024 * 1024)]

    def curl_download(self, url, size, rate, prefix, what):
        """Downloads `size` bytes meant to take size/rate seconds. A limiter that runs far
        too slow is stopped by curl's --max-time at twice that (plus 2 s), and the rate is
        then what it achieved until then (curl exits 28 with the partial size)."""
        curl = executable("curl")
        seconds = size / rate
        limit = seconds * 2 + 2
        argv = prefix + [curl, "-s", "-o", "/dev/null", "--max-time", f"{limit:.1f}",
                         "-w", "%{http_code} %{size_download} %{time_total}", url]
        out, _ = self.procs.run(argv, timeout=limit + 15, env=self.sluice.env, what=what, ok=(0, 28))
        try:
            code, got, total = out.split()
            got, total = int(got), float(total)
        except ValueError:
            raise Unmeasured(f"{what}: unexpected curl output {out!r}")
        if code != "200" or got == 0 or total <= 0:
            raise Unmeasured(f"{what}: HTTP {code}, {got} of {size} bytes")
        achieved = got / total
        partial = "" if got == size else f" (stopped at --max-time with {got} of {size} bytes)"
        return achieved, abs(achieved - rate) / rate * 100, total, partial

    def rate_limits(self):
        port = self.ports.free()
        files = os.path.join(self.work, "www")
        os.makedirs(files)
        seconds = self.args.rate_seconds
        for label, rate in self.RATES:
            with open(os.path.join(files, f"{rate}.bin"), "wb") as f:
                f.truncate(int(rate * seconds))
        goal = ("value", "<=", 3)
        names = [(f"ratelimit.error.{label}", "%", goal) for label, _ in self.RATES]
        try:
            server = self.procs.start([sys.executable, "-m", "http.server", "--bind", LOOPBACK, str(port),
                                       "--directory", files], os.path.join(self.work, "http.log"))
            wait_listening(port, server, what="python3 -m http.server")
        except Unmeasured as e:
            self.results.failed(names, f"rate limits: {e}")
            return
        try:
            curl = executable("curl")
            trickle = executable("trickle")
        except Unmeasured as e:
            self.results.failed(names, f"rate limits: {e}")
            return
        rule = None
        for label, rate in self.RATES:
            name = f"ratelimit.error.{label}"
            url = f"http://{LOOPBACK}:{port}/{rate}.bin"
            size = int(rate * seconds)
            peer = None
            try:
                achieved, peer, total, partial = self.curl_download(
                    url, size, rate, [trickle, "-s", "-d", str(rate // 1024)], f"curl under trickle at {label}")
                log(f"trickle -d {rate // 1024} (KiB/s): {achieved / 1024:.1f} KiB/s in {total:.2f} s,"
                    f" error {peer:.2f} %{partial}")
            except Unmeasured as e:
                log(f"peer baseline not measured: trickle at {label}: {e}")
                self.results.failures.append(f"trickle at {label}: {e}")
            try:
                self.need_provider()
                if rule is None:
                    rule = self.sluice.relay_rule(curl, "tcp", port)
                self.sluice.ctl("quota", "set", "--app", curl, "--rate-down", label, "--json")
                before = self.sluice.engine()
                achieved, error, total, partial = self.curl_download(
                    url, size, rate, self.sluice.run_command([]), f"curl through the relay at {label}")
                self.through_relay(before, "tcp_accepted", 1, f"curl at {label}")
                log(f"sluice quota {label}: {achieved / 1024:.1f} KiB/s in {total:.2f} s,"
                    f" error {error:.2f} %{partial}")
                self.results.add(name, error, "%", peer, goal=goal)
            except Unmeasured as e:
                self.results.add(name, None, "%", peer, goal=goal)
                self.results.failures.append(f"rate limit {label}: {e}")
                log(f"NOT MEASURED: rate limit {label}: {e}")
        self.procs.stop(server)

    # -- the matcher ------------------------------------------------------------------

    def matcher(self):
        path = os.path.join(self.work, "matcher.json")
        try:
            out, _ = self.procs.run([self.program("matcher_bench"), "--json", path, "--check-flows", "2000"],
                                    timeout=600, what="matcher_bench")
            for line in out.splitlines():
                if line.startswith("matcher p"):
                    log(line)
            with open(path) as f:
                rows = json.load(f)
        except (Unmeasured, OSError, ValueError) as e:
            self.results.failed([("matcher.decide.p99", "us", None)], f"matcher: {e}")
            return
        for row in rows:
            self.results.add(row["name"], row["value"], row["unit"], row.get("baseline"), row.get("ratio"))

    # ---------------------------------------------------------------------------------

    def run(self):
        sections = [("tcp", self.tcp_throughput), ("udp", self.udp_rate), ("connect", self.connect_latency),
                    ("sendto", self.sendto_overhead), ("ratelimit", self.rate_limits), ("matcher", self.matcher)]
        only = set(self.args.only.split(",")) if self.args.only else None
        if not self.have_provider:
            log("the provider is not built: relayed figures cannot be measured")
        self.sluice.start()
        for name, section in sections:
            if only and name not in only:
                continue
            log(f"--- {name}")
            section()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default="build/linux/bin", help="where sluiced, sluicectl, sluice-run and the"
                        " bench programs are (default: %(default)s)")
    parser.add_argument("--out", default="build/bench/results.json", help="the JSON results (default: %(default)s)")
    parser.add_argument("--only", help="comma-separated sections: tcp,udp,connect,sendto,ratelimit,matcher")
    parser.add_argument("--tcp-seconds", type=int, default=3)
    parser.add_argument("--udp-seconds", type=float, default=3.0)
    parser.add_argument("--connects", type=int, default=2000)
    parser.add_argument("--sendto-calls", type=int, default=500000)
    parser.add_argument("--rate-seconds", type=float, default=4.0, help="length of each rate-limited download")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = parser.parse_args()

    # SIGTERM/SIGHUP end the run through the same cleanup as Ctrl-C.
    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    work = tempfile.mkdtemp(prefix="sluice-bench.")
    bench = Bench(args, work)
    status = 0
    try:
        bench.run()
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    except Unmeasured as e:
        bench.results.failures.append(str(e))
        log(f"cannot run: {e}")
    finally:
        bench.procs.stop_all()
        bench.sluice.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    bench.results.write(args.out)
    print()
    print(bench.results.table())
    print()
    log(f"wrote {args.out}")
    if bench.results.failures:
        log(f"{len(bench.results.failures)} measurement(s) could not be taken:")
        for reason in bench.results.failures:
            log(f"  {reason}")
        status = status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())
