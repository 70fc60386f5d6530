#!/usr/bin/env python3
"""Side-by-side benchmark: billwatch summarize vs DuckDB on the same synthetic CUR files.

For each size it generates a CUR 1.0 CSV with `billwatch generate cur`, then runs each tool as
a child process and reads that child's own peak RSS from wait4() (no extra tools needed). It
checks that both tools agree on every total to the last digit, and prints one table.

    .venv/bin/python scripts/bench.py [--sizes-mb 10,1000] [--keep DIR]

Run through ./scripts/bench, which builds the release binary and the venv first.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

DUCKDB_QUERY = """
import duckdb, json, sys
con = duckdb.connect()
con.execute("SET threads TO 2")
con.execute("SET enable_progress_bar = false")
rows = con.execute('''
  SELECT "lineItem/UsageAccountId", "lineItem/ProductCode", "lineItem/CurrencyCode",
         CAST(SUM(CAST("lineItem/UnblendedCost" AS DECIMAL(38,10))) AS VARCHAR)
  FROM read_csv(?, header=true, all_varchar=true)
  GROUP BY ALL''', [sys.argv[1]]).fetchall()
print(json.dumps([list(r) for r in rows]))
"""


def run_measured(cmd):
    """Runs cmd; returns (stdout, seconds, peak RSS in MiB) of that child alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed with exit code {proc.returncode}")
    return out, seconds, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes-mb", default="10,1000")
    ap.add_argument("--billwatch", default="target/release/billwatch")
    ap.add_argument("--keep", help="keep generated files in this folder")
    args = ap.parse_args()
    import json

    workdir = args.keep or tempfile.mkdtemp(prefix="billwatch-bench.")
    os.makedirs(workdir, exist_ok=True)
    results = []
    try:
        for size in [int(s) for s in args.sizes_mb.split(",")]:
            path = os.path.join(workdir, f"cur-{size}mb.csv")
            if not os.path.exists(path):
                subprocess.run([args.billwatch, "generate", "cur", "--size-mb", str(size), "--out", path], check=True)
            mb = os.path.getsize(path) / 1e6
            out, secs, rss = run_measured([args.billwatch, "summarize", "--json", path])
            ours = {(t["account_id"], t["service"], t["currency"]): Decimal(t["cost"]) for t in json.loads(out)["totals"]}
            results.append(("billwatch", mb, secs, rss))
            out, secs, rss = run_measured([sys.executable, "-c", DUCKDB_QUERY, path])
            theirs = {(a, s, c): Decimal(v) for a, s, c, v in json.loads(out)}
            results.append(("duckdb", mb, secs, rss))
            if ours != theirs:
                diff = {k: (ours.get(k), theirs.get(k)) for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)}
                sys.exit(f"totals differ on {path}: {list(diff.items())[:5]}")
            print(f"{size} MB: billwatch and duckdb agree on all {len(ours)} totals", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"{'tool':<10} {'size MB':>9} {'seconds':>8} {'MB/s':>8} {'peak RSS MiB':>13}")
    for tool, mb, secs, rss in results:
        print(f"{tool:<10} {mb:>9.1f} {secs:>8.2f} {mb / secs:>8.1f} {rss:>13.1f}")
    ours = [r for r in results if r[0] == "billwatch"]
    if len(ours) >= 2:
        print(f"billwatch peak RSS, largest / smallest file: {ours[-1][3] / ours[0][3]:.2f}x")


if __name__ == "__main__":
    main()
