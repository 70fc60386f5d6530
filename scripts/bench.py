#!/usr/bin/env python3
"""Side-by-side benchmark of `billwatch summarize` against Polars, DuckDB and chDB, the scale
envelope of a manifest read in parallel, and (when a command is given) time to alert.

1. Peers. One synthetic CUR 1.0 CSV (`billwatch generate cur`) and its gzip -1. Every tool runs
   the same exact group-by-sum (cost as a 38,10 decimal, by account, product and currency) on
   every core, as a child process; peak RSS is that child's own (wait4). Tools run in turn, A B C
   A B C ..., `--runs` times; the table shows medians, and each ratio is the median of the
   per-round ratios (pairing keeps it honest when the machine's speed drifts). The gzip round
   also times a bare single-stream inflate of the same file (the engine's own decoder) as the
   floor. Every peer's totals must equal billwatch's to the last digit, or the run fails.
2. Flat memory: billwatch's peak RSS on a 10 MB file and on the full file.
3. Scale: a CUR manifest of N gzip parts of about `--part-mb` MB each, summarized with 1..T
   threads: compressed and text throughput per core, and the largest monthly CUR (compressed)
   that one Lambda reads in 12 minutes at 1 vCPU (1,769 MB) and 6 vCPU (10,240 MB), if a vCPU
   there reads what a core reads here.

4. Budgets (`--budgets-only` for this alone, `--skip-budgets` without): the same pass with 50
   filtered budgets (every cost type, exclusions, filters on accounts, services, regions, usage
   types, operations and tags, with `not_` exclusions and `*`) against the pass with one plain
   budget (none summed per line): `billwatch budgets status` both, in turn, `--runs` rounds;
   the ratio of wall times (target: at most 1.25x), and peak RSS on 10 MB and on the full
   file (flat memory). Every one of the 50 must be answered (no budget silently dropped).

5. Many keys (`--keys`, or `--keys-only` for this alone): CURs of a large organisation, one usage
   row per (account, service, day), 2,000 accounts x 150 services x 2 days (300,000 keys) and
   5,000 x 200 x 2 (1,000,000): `billwatch summarize --json` on every core, its peak RSS and
   the bytes per key ((peak RSS - the 10 MB file's peak RSS) / keys).

    .venv-bench/bin/python scripts/bench.py [--size-mb 426] [--runs 5] [--parts 4]
        [--part-mb 1000] [--skip-peers] [--skip-scale] [--skip-budgets | --budgets-only]
        [--keys | --keys-only] [--keep DIR]

Run through ./scripts/bench, which builds the release binaries and the venv first.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

POLARS = """
import json, sys, polars as pl
df = (pl.scan_csv(sys.argv[1], infer_schema=False)
      .group_by(["lineItem/UsageAccountId", "lineItem/ProductCode", "lineItem/CurrencyCode"])
      .agg(pl.col("lineItem/UnblendedCost").cast(pl.Decimal(38, 10)).sum())
      .collect())
print(json.dumps([[a, b, c, str(d)] for a, b, c, d in df.iter_rows()]))
"""

DUCKDB = """
import duckdb, json, os, sys
con = duckdb.connect()
con.execute(f"SET threads TO {os.cpu_count()}")
con.execute("SET enable_progress_bar = false")
rows = con.execute('''
  SELECT "lineItem/UsageAccountId", "lineItem/ProductCode", "lineItem/CurrencyCode",
         CAST(SUM(CAST("lineItem/UnblendedCost" AS DECIMAL(38,10))) AS VARCHAR)
  FROM read_csv(?, header=true, all_varchar=true)
  GROUP BY ALL''', [sys.argv[1]]).fetchall()
print(json.dumps([list(r) for r in rows]))
"""

CHDB = """
import chdb, json, os, sys
q = f'''SELECT "lineItem/UsageAccountId", "lineItem/ProductCode", "lineItem/CurrencyCode",
  toString(sum(toDecimal128("lineItem/UnblendedCost", 10)))
  FROM file('{sys.argv[1]}', 'CSVWithNames') GROUP BY ALL
  SETTINGS max_threads={os.cpu_count()}, input_format_csv_use_best_effort_in_schema_inference=0'''
print(json.dumps(json.loads(chdb.query(q, 'JSONCompact').bytes())["data"]))
"""

LAMBDA_SECONDS = 12 * 60
LAMBDAS = [("1,769 MB (1 vCPU)", 1), ("10,240 MB (6 vCPU, arm64)", 6)]


def run_measured(cmd):
    """Runs cmd; returns (stdout, wall s, cpu s, peak RSS MiB) of that child alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(cmd)} failed with exit code {code}")
    return out, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def totals_of(tool, out):
    """Totals per (account, service, currency) from a tool's output."""
    if tool == "billwatch":
        return {(t["account_id"], t["service"], t["currency"]): Decimal(t["cost"]) for t in json.loads(out)["totals"]}
    return {(a, s, c): Decimal(v) for a, s, c, v in json.loads(out)}


def available(module, python):
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def peers_round(path, tools, runs):
    """Runs every tool `runs` times in turn; checks totals; returns per-tool lists of figures."""
    figures = {name: [] for name, _ in tools}
    expected = None
    for r in range(runs):
        for name, cmd in tools:
            out, wall, cpu, rss = run_measured(cmd + [path])
            figures[name].append((wall, cpu, rss))
            if r == 0 and name != "inflate":
                got = totals_of(name, out)
                if expected is None:
                    expected = got
                elif got != expected:
                    diff = [k for k in set(got) | set(expected) if got.get(k) != expected.get(k)]
                    sys.exit(f"{name} disagrees with billwatch on {len(diff)} totals of {path}, e.g. {diff[:3]}")
    print(f"{os.path.basename(path)}: every tool agrees on all {len(expected)} totals", file=sys.stderr)
    return figures


def print_peers(label, mb, figures):
    ours = figures["billwatch"]
    print(f"\n{label} ({mb:.0f} MB), medians of {len(ours)} rounds")
    print(f"{'tool':<10} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'peak MiB':>9} {'billwatch / tool (wall)':>24}")
    for name, rows in figures.items():
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        rss = statistics.median(r[2] for r in rows)
        ratio = statistics.median(a[0] / b[0] for a, b in zip(ours, rows))
        shown = "" if name == "billwatch" else f"{ratio:.2f}x"
        print(f"{name:<10} {wall:>7.3f} {cpu:>7.3f} {mb / wall:>7.0f} {rss:>9.1f} {shown:>24}")


def generate(billwatch, path, size_mb, seed=1, gzip=False):
    if not os.path.exists(path):
        cmd = [billwatch, "generate", "cur", "--size-mb", str(size_mb), "--seed", str(seed), "--out", path]
        subprocess.run(cmd + (["--gzip"] if gzip else []), check=True, stderr=subprocess.DEVNULL)


def peers(args, workdir, python, billwatch, inflate):
    plain = os.path.join(workdir, f"cur-{args.size_mb}mb.csv")
    generate(billwatch, plain, args.size_mb)
    gz = plain + ".gz"
    if not os.path.exists(gz):
        subprocess.run(["gzip", "-1", "-k", "-f", plain], check=True)
    tools = [("billwatch", [billwatch, "summarize", "--json"])]
    for name, module, script in [("polars", "polars", POLARS), ("duckdb", "duckdb", DUCKDB), ("chdb", "chdb", CHDB)]:
        if available(module, python):
            tools.append((name, [python, "-c", script]))
        else:
            print(f"{name} is not installed in {python}: left out", file=sys.stderr)
    mb = os.path.getsize(plain) / 1e6
    print_peers("plain CSV", mb, peers_round(plain, tools, args.runs))
    print_peers(f"gzip -1 ({os.path.getsize(gz) / 1e6:.0f} MB compressed)", mb,
                peers_round(gz, tools + [("inflate", [inflate])], args.runs))
    small = os.path.join(workdir, "cur-10mb.csv")
    generate(billwatch, small, 10)
    rss_small = run_measured([billwatch, "summarize", "--json", small])[3]
    rss_big = run_measured([billwatch, "summarize", "--json", plain])[3]
    print(f"\nbillwatch peak RSS: {rss_small:.1f} MiB on 10 MB, {rss_big:.1f} MiB on {mb:.0f} MB "
          f"({rss_big / rss_small:.2f}x for {mb / 10:.0f}x the input)")


def scale(args, workdir, billwatch):
    folder = os.path.join(workdir, "bucket", "cur", "big", "20261101-20261201")
    os.makedirs(folder, exist_ok=True)
    keys = []
    for n in range(args.parts):
        key = f"cur/big/20261101-20261201/big-{n + 1}.csv.gz"
        generate(billwatch, os.path.join(workdir, "bucket", key), args.part_mb, seed=n + 1, gzip=True)
        keys.append(key)
    manifest = os.path.join(folder, "big-Manifest.json")
    with open(manifest, "w") as f:
        json.dump({"reportKeys": keys, "billingPeriod": {"start": "20261101T000000.000Z"},
                   "columns": [{"category": "lineItem", "name": n} for n in
                               ("UsageAccountId", "ProductCode", "UnblendedCost", "CurrencyCode")]}, f)
    compressed = sum(os.path.getsize(os.path.join(workdir, "bucket", k)) for k in keys) / 1e9
    text = args.parts * args.part_mb / 1e3
    print(f"\nscale: a manifest of {args.parts} gzip parts, {compressed:.2f} GB compressed, ~{text:.1f} GB of text")
    print(f"{'threads':>7} {'wall s':>7} {'cpu s':>7} {'peak MiB':>9} {'GB/s gz':>8} {'GB/s gz per core':>17} {'GB/s text per core':>19}")
    per_core = []
    cores = os.cpu_count() or 1
    for threads in range(1, cores + 1):
        rounds = [run_measured([billwatch, "summarize", "--json", "--threads", str(threads),
                                "--bucket-dir", os.path.join(workdir, "bucket"), manifest])
                  for _ in range(args.scale_runs)]
        wall = statistics.median(r[1] for r in rounds)
        cpu = statistics.median(r[2] for r in rounds)
        rss = statistics.median(r[3] for r in rounds)
        per_core.append(compressed / wall / threads)
        print(f"{threads:>7} {wall:>7.2f} {cpu:>7.2f} {rss:>9.1f} {compressed / wall:>8.3f} "
              f"{compressed / wall / threads:>17.3f} {text / wall / threads:>19.3f}")
    rate = min(per_core)
    print(f"\nlargest monthly CUR one Lambda reads in 12 minutes, at {rate * 1000:.0f} MB/s of gzip per vCPU "
          f"(the lowest per-core rate above):")
    for name, vcpus in LAMBDAS:
        print(f"  {name:<28} {rate * vcpus * LAMBDA_SECONDS:>7.0f} GB compressed")


KEY_SHAPES = [(2000, 150, 2), (5000, 200, 2)]


FIFTY_COSTS = ["unblended", "amortized", "blended", "net_unblended", "net_amortized"]
SERVICES = ["AmazonEC2", "AmazonS3", "AmazonRDS", "AWSLambda", "AmazonDynamoDB",
            "AmazonCloudWatch", "AWSDataTransfer", "awskms", "AmazonSNS", "AmazonEKS"]


def fifty_budgets():
    """50 filtered budgets over the generated CUR's accounts, services, tags and usage types."""
    out = []
    for i in range(50):
        account = f"1000000000{i % 25:02d}"
        other = f"1000000000{(i + 7) % 25:02d}"
        service = SERVICES[i % len(SERVICES)]
        team = f"team-{i % 7}"
        filters = [
            f'accounts = ["{account}", "{other}"]',
            f'services = ["{service}"]',
            f'tags = {{ team = ["{team}"] }}',
            f'usage_types = ["*Usage*"]\nnot_services = ["{service}"]',
            f'accounts = ["10000000001*"]\nservices = ["{service}", "AmazonS3"]',
            'tags = { team = ["team-1", "team-2"] }\nregions = ["us-east-1"]',
            f'not_tags = {{ team = ["{team}"] }}',
            f'operations = ["Run*"]\nservices = ["{service}"]',
            f'usage_types = ["{["BoxUsage:*", "*Storage*", "*Requests*"][i % 3]}"]',
            f'accounts = ["{account}"]\ntags = {{ team = ["{team}", ""] }}',
        ][i % 10]
        exclude = '\nexclude = ["credits", "tax"]' if i % 3 == 0 else ""
        out.append(f'[[budget]]\nname = "b{i:02d}"\namount = "1000"\ncurrency = "USD"\n'
                   f'cost = "{FIFTY_COSTS[i % 5]}"{exclude}\nthresholds = ["80%"]\n'
                   f'[budget.filter]\n{filters}\n')
    return "\n".join(out)


PLAIN_BUDGET = '[[budget]]\nname = "plain"\namount = "1000"\ncurrency = "USD"\nthresholds = ["80%"]\n'


def budgets(args, workdir, billwatch):
    plain = os.path.join(workdir, f"cur-{args.size_mb}mb.csv")
    generate(billwatch, plain, args.size_mb)
    small = os.path.join(workdir, "cur-10mb.csv")
    generate(billwatch, small, 10)
    files = {}
    for name, text in [("plain", PLAIN_BUDGET), ("fifty", fifty_budgets())]:
        files[name] = os.path.join(workdir, f"budgets-{name}.toml")
        with open(files[name], "w") as f:
            f.write(text)
    cmd = lambda which, report: [billwatch, "budgets", "status", "--json", "--budgets", files[which], "--report", report]
    out = json.loads(run_measured(cmd("fifty", small))[0])
    unanswered = [b["name"] for b in out if b.get("spend") is None]
    if len(out) != 50 or unanswered:
        sys.exit(f"the 50 budgets are not all answered: {unanswered or len(out)}")
    rows = {"plain": [], "fifty": []}
    for _ in range(args.runs):
        for which in ("plain", "fifty"):
            rows[which].append(run_measured(cmd(which, plain))[1:])
    mb = os.path.getsize(plain) / 1e6
    ratio = statistics.median(b[0] / a[0] for a, b in zip(rows["plain"], rows["fifty"]))
    print(f"\nbudgets in the pass ({mb:.0f} MB CUR, `billwatch budgets status`), medians of {args.runs} rounds")
    print(f"{'budgets':<22} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'peak MiB':>9}")
    for which, label in (("plain", "1 plain (none per line)"), ("fifty", "50 filtered")):
        wall = statistics.median(r[0] for r in rows[which])
        cpu = statistics.median(r[1] for r in rows[which])
        rss = statistics.median(r[2] for r in rows[which])
        print(f"{label:<22} {wall:>7.3f} {cpu:>7.3f} {mb / wall:>7.0f} {rss:>9.1f}")
    rss_small = run_measured(cmd("fifty", small))[3]
    rss_big = statistics.median(r[2] for r in rows["fifty"])
    print(f"50 budgets / none: {ratio:.2f}x wall (target at most 1.25x); peak RSS with 50: "
          f"{rss_small:.1f} MiB on 10 MB, {rss_big:.1f} MiB on {mb:.0f} MB")


def run_to_file(cmd, out):
    """run_measured, stdout to the file `out`: this process then holds no output. (A child's peak
    RSS counts the parent's pages it was forked with, so a parent holding a large output makes
    the next child look as large.)"""
    start = time.perf_counter()
    with open(out, "wb") as f:
        proc = subprocess.Popen(cmd, stdout=f)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed")
    return None, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def keys(args, workdir, billwatch):
    """Peak RSS and bytes per key of summarizing reports with many distinct keys."""
    small = os.path.join(workdir, "cur-10mb.csv")
    if not os.path.exists(small):
        generate(billwatch, small, 10)
    out = os.path.join(workdir, "keys-summary.json")
    floor = statistics.median(run_to_file([billwatch, "summarize", "--json", small], out)[3] for _ in range(3))
    print(f"\nmany keys: summarize --json on every core (floor: {floor:.1f} MiB on a 10 MB file of 250 keys)")
    print(f"{'accounts x services x days':>27} {'keys':>9} {'MB':>6} {'wall s':>7} {'peak MiB':>9} {'bytes/key':>10}")
    for accounts, services, days in KEY_SHAPES:
        path = os.path.join(workdir, f"cur-keys-{accounts}x{services}x{days}.csv")
        if not os.path.exists(path):
            subprocess.run([billwatch, "generate", "cur", "--accounts", str(accounts), "--services",
                            str(services), "--days", str(days), "--out", path], check=True,
                           stderr=subprocess.DEVNULL)
        out = os.path.join(workdir, "keys-summary.json")
        rounds = [run_to_file([billwatch, "summarize", "--json", path], out) for _ in range(args.keys_runs)]
        # Counted in a child: parsed here, the summary would swell this process, and with it the
        # next child's peak RSS.
        n = int(subprocess.run([sys.executable, "-c", "import json, sys; print(len(json.load(open(sys.argv[1]))['totals']))",
                                out], capture_output=True, text=True, check=True).stdout)
        os.remove(out)
        wall = statistics.median(r[1] for r in rounds)
        rss = statistics.median(r[3] for r in rounds)
        per_key = (rss - floor) * 1024 * 1024 / n
        print(f"{f'{accounts:,} x {services} x {days}':>27} {n:>9,} {os.path.getsize(path) / 1e6:>6.0f} "
              f"{wall:>7.2f} {rss:>9.1f} {per_key:>10.0f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=426)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--part-mb", type=int, default=1000)
    ap.add_argument("--scale-runs", type=int, default=3)
    ap.add_argument("--billwatch", default="target/release/billwatch")
    ap.add_argument("--inflate", default="target/release/examples/inflate")
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-budgets", action="store_true")
    ap.add_argument("--budgets-only", action="store_true", help="only measure budgets in the pass")
    ap.add_argument("--keys", action="store_true", help="also measure reports with many keys")
    ap.add_argument("--keys-only", action="store_true", help="only measure reports with many keys")
    ap.add_argument("--keys-runs", type=int, default=3)
    ap.add_argument("--keep", help="keep generated files in this folder (and reuse them)")
    args = ap.parse_args()
    workdir = args.keep or tempfile.mkdtemp(prefix="billwatch-bench.")
    os.makedirs(workdir, exist_ok=True)
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores ({cpu or 'unknown CPU'}), {time.strftime('%Y-%m-%d')}")
    try:
        only = args.keys_only or args.budgets_only
        if not args.skip_peers and not only:
            peers(args, workdir, sys.executable, args.billwatch, args.inflate)
        if not args.skip_budgets and not args.keys_only:
            budgets(args, workdir, args.billwatch)
        if not args.skip_scale and not only:
            scale(args, workdir, args.billwatch)
        if args.keys or args.keys_only:
            keys(args, workdir, args.billwatch)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
