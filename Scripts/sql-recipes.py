#!/usr/bin/env python3
"""Runs the DuckDB recipe of notebooks-md/0007-many-machines.md against tokengap.

Two "machines" share part of the shipped transcripts (and a generated tree);
each exports rows; the recipe reads both exports and must give every cell of
`tokengap analyze --by day,model --format csv` over the union of the original
files. Also checks that tokengap's own merge of the two exports is
byte-identical to that run.

    python3 Scripts/sql-recipes.py [--tokengap PATH]

Needs the duckdb Python module (pip install duckdb); exits 0 with a note when
it is missing and --require is not given, 1 on any difference.
"""
import argparse
import csv
import io
import os
import re
import subprocess
import sys
import tempfile
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def recipe():
    text = open(os.path.join(ROOT, "notebooks-md", "0007-many-machines.md"), encoding="utf-8").read()
    m = re.search(r"<!-- recipe:duckdb -->\s*```sql\n(.*?)```", text, re.S)
    if not m:
        sys.exit("sql-recipes: the DuckDB recipe block is missing from notebook 0007")
    return m.group(1)


def run(tool, *args):
    r = subprocess.run([tool, *args], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"sql-recipes: tokengap {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r.stdout


def cells_equal(column, ours, theirs):
    if ours in ("", None) and theirs in ("", None):
        return True
    if ours in ("", None) or theirs in ("", None):
        return False
    if column in ("day", "model"):
        return ours == theirs
    if column == "lower_bound":
        return str(ours).lower() == str(theirs).lower()
    a, b = Decimal(str(ours)), Decimal(str(theirs))
    if column.endswith("_usd"):
        return abs(a - b) <= Decimal("1e-9")
    if "ratio" in column or column in ("excess_share", "cache_hit_rate"):
        # Both round to 6 decimals: from the exact rational (tokengap) and a double (SQL).
        return abs(a - b) <= Decimal("1.5e-6")
    return a == b


def compare(name, duck, tool, machines, union):
    con = duck.connect()
    with tempfile.TemporaryDirectory() as tmp:
        for k, paths in enumerate(machines):
            out = os.path.join(tmp, f"rows-m{k}.jsonl")
            run(tool, "analyze", *paths, "--by", "request", "--format", "jsonl", "--source-label", f"m{k}", "-o", out, "-q")
        glob = os.path.join(tmp, "rows-*.jsonl")
        merged = run(tool, "analyze", *sorted(os.path.join(tmp, f) for f in os.listdir(tmp)), "--by", "day,model", "--format", "csv", "-q")
        expected = run(tool, "analyze", *union, "--by", "day,model", "--format", "csv", "-q")
        problems = []
        if merged != expected:
            problems.append("tokengap's own merge of the rows differs from the run over the union")
        rel = con.execute(recipe().replace("{rows}", glob))
        columns = [d[0] for d in rel.description]
        got = rel.fetchall()
    want = list(csv.DictReader(io.StringIO(expected)))
    if [c for c in columns] != list(want[0].keys()) if want else []:
        problems.append(f"columns differ: {columns}")
    if len(got) != len(want):
        problems.append(f"{len(got)} rows from SQL, {len(want)} from tokengap")
    checked = 0
    for row, ref in zip(got, want):
        for c, v in zip(columns, row):
            checked += 1
            if not cells_equal(c, ref.get(c), v):
                problems.append(f"{ref['day']} {ref['model']} {c}: tokengap {ref.get(c)!r}, SQL {v!r}")
    for p in problems[:20]:
        print(f"sql-recipes: {name}: {p}", file=sys.stderr)
    print(f"sql-recipes: {name}: {len(want)} groups, {checked} cells compared, {len(problems)} differences")
    return not problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokengap", default=os.path.join(ROOT, ".build", "release", "tokengap"))
    ap.add_argument("--require", action="store_true", help="fail when duckdb is not importable")
    a = ap.parse_args()
    try:
        import duckdb
    except ImportError:
        print("sql-recipes: the duckdb module is not installed: skipped (pip install duckdb)")
        sys.exit(1 if a.require else 0)
    cc = "datasets/claude-code/"
    shipped = [
        [cc + "claude-code-viewer", cc + "claude-code-log"],
        [cc + "claude-code-viewer", cc + "entireio-cli", cc + "ccusage-fixtures"],
    ]
    union = [cc + "claude-code-viewer", cc + "claude-code-log", cc + "entireio-cli", cc + "ccusage-fixtures"]
    ok = compare("shipped transcripts", duckdb, a.tokengap, shipped, union)
    # A generated set: three machines over one seeded tree, each with most of it.
    with tempfile.TemporaryDirectory() as tree:
        subprocess.run([sys.executable, os.path.join(ROOT, "Scripts", "gen-corpus.py"), tree, "8", "7"],
                       check=True, capture_output=True)
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(tree) for f in fs if f.endswith(".jsonl"))
        thirds = [files[k::3] for k in range(3)]
        machines = [thirds[0] + thirds[1], thirds[1] + thirds[2], thirds[2] + thirds[0][: len(thirds[0]) // 2]]
        ok = compare("generated tree, three machines", duckdb, a.tokengap, machines, files) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
