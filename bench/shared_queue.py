#!/usr/bin/env python3
"""The shared queue (PostgreSQL): its claim rate alone, and pirecd's end-to-end rate with
1, 2 and 3 hosts against the single-host folder queue, all in one run on this machine.

1. Claims: `pirec bench-queue` inserts N jobs and W threads claim, start and finish them
   through the same JobTable calls pirecd makes (an empty chain): claims per second.
2. End to end: a burst of F emoji PNGs into a photo pipeline (the shipped chain), run by
   1, 2, 3 pirecd hosts on the shared queue (one inbox), each with `workers` workers, and,
   as the peer of each, as many single-host daemons (folder queue, no `queue:`), each on its
   own inbox with its share of the files. The hosts share this machine's cores either way,
   so shared / separate is the queue's own cost (1.00: none). Latency: output time minus
   drop time per file. CPU per file: the pirecd processes' (user + system, from their exit
   status) and the PostgreSQL server's (the postmaster with every backend, live or
   exited), both over the burst, in milliseconds per file. The rounds interleave: each
   times every setup in turn, so a noisy minute falls on all of them.

A throw-away PostgreSQL server (initdb, unix socket, fsync off as in the tests) is made
in a temporary folder and stopped at the end; as root it runs as the postgres user.

    python3 bench/shared_queue.py [--jobs 5000] [--claimers 8] [--files 200] [--workers 1]

Needs the release build (`make build`) and Debian's postgresql package.
"""

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import resource
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, ".build", "release")

CONFIG = """\
model_dir: {repo}/models
workers: {workers}
{queue}pipelines:
  - name: photo
    watch: {shared}/inbox
    output: {shared}/outbox
    failed: {shared}/failed
    keep_inputs: false
    chain:
      - plugin: resize
        with: {{ fit: 128 }}
      - plugin: edge-extractor
        with: {{ sigma: 2 }}
      - plugin: color-quantizer
        with: {{ median: 7, colors: 6 }}
      - plugin: generator
        with: {{ model: emoji/generator.safetensors }}
      - plugin: refiner
        with: {{ model: emoji/refiner.safetensors }}
"""

QUEUE = """queue:
  postgres: "host={socket} port=5432 user=postgres dbname=postgres"
  host: {host}
  poll: 1
"""


class Postgres:
    def __init__(self):
        versions = sorted(int(v) for v in os.listdir("/usr/lib/postgresql") if v.isdigit())
        self.bin = f"/usr/lib/postgresql/{versions[-1]}/bin"
        self.folder = tempfile.mkdtemp(prefix="pirec-bench-pg-")
        os.chmod(self.folder, 0o755)
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.tool("initdb", "-D", self.folder + "/data", "-U", "postgres", "--auth=trust", "--no-sync")
        self.tool("pg_ctl", "-D", self.folder + "/data", "-l", self.folder + "/log", "-w", "-o",
                  f"-k {self.folder} -p 5432 -c listen_addresses='' -c fsync=off", "start")

    def cpu_seconds(self):
        """User + system CPU of the server so far: the postmaster, the backends it has
        reaped (its children's times) and those still running."""
        tick = os.sysconf("SC_CLK_TCK")
        with open(self.folder + "/data/postmaster.pid") as f:
            master = int(f.readline())
        total = 0
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(stat) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited meanwhile
            pid, parent = int(stat.split("/")[2]), int(fields[1])
            if pid == master:
                total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
            elif parent == master:
                total += int(fields[11]) + int(fields[12])
        return total / tick

    def tool(self, name, *args):
        prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run(prefix + [f"{self.bin}/{name}", *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

    def stop(self):
        self.tool("pg_ctl", "-D", self.folder + "/data", "-w", "-m", "fast", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def burst(args, pg, hosts, separate=1):
    """Files/s and latencies of one burst through `hosts` pirecd processes on the shared
    queue, or (hosts 0) through `separate` single-host daemons, each on its own inbox with
    its share of the files (the peer for hosts that share the cores)."""
    root = tempfile.mkdtemp(prefix="pirec-bench-queue-")
    boxes = [f"{root}/shared{k}" for k in range(separate if hosts == 0 else 1)]
    for box in boxes:
        os.makedirs(box + "/inbox")
    if pg:
        subprocess.run(["psql", "-h", pg.folder, "-U", "postgres", "-q", "-c", "DROP TABLE IF EXISTS pirec_jobs, pirec_schema"],
                       check=True, stdout=subprocess.DEVNULL)
    server_before = pg.cpu_seconds() if pg else 0.0
    hosts_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    processes = []
    for h in range(max(hosts, len(boxes))):
        queue = QUEUE.format(socket=pg.folder, host=f"bench-{h}") if hosts else ""
        path = f"{root}/host{h}.yaml"
        with open(path, "w") as f:
            f.write(CONFIG.format(repo=REPO, workers=args.workers, queue=queue, shared=boxes[h % len(boxes)]))
        log = open(f"{root}/host{h}.log", "w")
        processes.append(subprocess.Popen([BUILD + "/pirecd", "--config", path, "--control", f"{root}/run{h}"],
                                          stdout=log, stderr=log, stdin=subprocess.DEVNULL))
    for h in range(len(processes)):
        deadline = time.time() + 60
        while "ready" not in open(f"{root}/host{h}.log").read():
            if time.time() > deadline:
                sys.exit(f"pirecd did not start: {open(f'{root}/host{h}.log').read()}")
            time.sleep(0.1)
    sources = sorted(glob.glob(os.path.join(REPO, "examples", "emoji", "*.png")))
    dropped = {}
    start = time.time()
    for i in range(args.files):
        name = f"f{i:05d}.png"
        box = boxes[i % len(boxes)]
        shutil.copy(sources[i % len(sources)], f"{box}/{name}.part")
        os.rename(f"{box}/{name}.part", f"{box}/inbox/{name}")
        dropped[name] = time.time()
    seen = {}
    deadline = time.time() + 600
    while len(seen) < args.files and time.time() < deadline:
        now = time.time()
        for box in boxes:
            for name in os.listdir(box + "/outbox") if os.path.isdir(box + "/outbox") else []:
                if name.endswith(".png") and name not in seen:
                    seen[name] = now
        time.sleep(0.02)
    end = max(seen.values()) if seen else time.time()
    for p in processes:
        p.terminate()
    for p in processes:
        p.wait()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    host_cpu = (usage.ru_utime - hosts_before.ru_utime) + (usage.ru_stime - hosts_before.ru_stime)
    time.sleep(0.5)  # the postmaster reaps the backends of the closed connections
    server_cpu = pg.cpu_seconds() - server_before if pg else 0.0
    shutil.rmtree(root, ignore_errors=True)
    if len(seen) < args.files:
        sys.exit(f"only {len(seen)} of {args.files} outputs")
    latencies = [seen[n] - dropped[n] for n in seen]
    return (args.files / (end - start), percentile(latencies, 50), percentile(latencies, 99),
            host_cpu / args.files * 1000, server_cpu / args.files * 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--claimers", type=int, default=8)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    pg = Postgres()
    try:
        config = tempfile.mktemp(suffix=".yaml")
        with open(config, "w") as f:
            f.write(QUEUE.format(socket=pg.folder, host="bench") + "pipelines:\n  - name: x\n    chain:\n      - plugin: resize\n")
        rates = []
        for _ in range(args.rounds):
            out = subprocess.run([BUILD + "/pirec", "bench-queue", "--config", config, "--jobs", str(args.jobs),
                                  "--workers", str(args.claimers)], check=True, capture_output=True, text=True).stdout
            rates.append(json.loads(out)["claims_per_second"])
        os.unlink(config)
        print(f"claims (claim + start + finish, {args.claimers} threads, {args.jobs} jobs): "
              f"median {statistics.median(rates):.0f}/s over {args.rounds} rounds {[round(r) for r in rates]}")
        # (shared hosts, separate folder-queue daemons): each shared row's peer is as many
        # separate single-host daemons on the same cores.
        setups = [(0, 1), (1, 0), (0, 2), (2, 0), (0, 3), (3, 0)]
        rows = {setup: [] for setup in setups}
        for _ in range(args.rounds):
            for setup in setups:
                rows[setup].append(burst(args, pg if setup[0] else None, setup[0], max(setup[1], 1)))
        print(f"\nend to end: {args.files} files, photo chain, {args.workers} worker(s) per host, "
              f"median of {args.rounds} rounds")
        print("| queue | hosts | files/s | shared / separate | p50 latency s | p99 latency s "
              "| pirecd CPU ms/file | PostgreSQL CPU ms/file |")
        print("|---|---|---|---|---|---|---|---|")
        for (shared, separate), runs in rows.items():
            rate = statistics.median(r[0] for r in runs)
            n = shared or separate
            peer = statistics.median(r[0] for r in rows[(0, n)])
            label = "shared (PostgreSQL)" if shared else "folder, one inbox each"
            print(f"| {label} | {n} | {rate:.2f} | {rate / peer:.2f} | {statistics.median(r[1] for r in runs):.2f} | "
                  f"{statistics.median(r[2] for r in runs):.2f} | {statistics.median(r[3] for r in runs):.1f} | "
                  + (f"{statistics.median(r[4] for r in runs):.2f} |" if shared else "- |"))
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
