#!/usr/bin/env python3
"""Times tokengap against baselines in one run and writes notebooks-md/0005-benchmarks.md.

Every timed command runs RUNS times, the commands alternating (run 1 of each, then
run 2 of each, ...), so a slow moment of the machine hits all of them alike; the
tables give medians, and ratios are taken between medians of the same run.

  Scripts/bench.py [--size MB] [--runs N] [--quick] [--live-only]

--quick skips the ten-million-record memory test and the 200,000-entry HAR.
--live-only measures only the live views (statusline, watch; issue 15) and
prints them without writing the notebook.
Needs python3; aiburn is timed when installed (pip install aiburn==0.4.5).
"""
import argparse, os, platform, shutil, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The binary Scripts/install.sh installs (on Linux, the Swift runtime linked
# in), built the same way: what a user runs.
BUILD = ["swift", "build", "-c", "release", "--scratch-path", ".build-install"] + (
    ["--static-swift-stdlib"] if platform.system() == "Linux" else [])
TG = os.path.join(ROOT, ".build-install", "release", "tokengap")


def timed(cmd, env=None):
    """Runs a command; returns (wall seconds, peak RSS in MB).

    A command without shell syntax (a list, or a string without | & ; < > ( ))
    runs under time(1) alone, no shell between it and the program (bash
    added about 3 ms to every command, a fiftieth of a 0.17 s run, which
    shrank every ratio between two commands); others under bash too.
    time(1)'s %M gives the peak RSS (read from wait4 here it would count
    the forked Python), and the wall time is read with perf_counter around
    the child (time(1)'s %e counts in steps of 10 ms)."""
    import shlex, time
    if isinstance(cmd, list) or not any(c in cmd for c in "|&;<>()"):
        argv = cmd if isinstance(cmd, list) else shlex.split(cmd)
        start = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=env)
        wall = time.perf_counter() - start
        rss = out.stderr.strip().splitlines()[-1].split()[0]
        return wall, int(rss) / 1024
    start = time.perf_counter()
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "bash", "-c", cmd + " > /dev/null 2>&1"],
        capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    rss = out.stderr.strip().splitlines()[-1].split()[0]
    return wall, int(rss) / 1024


def alternate(cmds, runs, rounds=None):
    """{name: (median wall, max RSS)} over `runs` alternating rounds; each
    round's walls are appended to `rounds` ({name: [wall, ...]}) when given."""
    walls = {n: [] for n, _, _ in cmds}
    rss = {n: 0.0 for n, _, _ in cmds}
    for _ in range(runs):
        for name, cmd, env in cmds:
            w, r = timed(cmd, env)
            walls[name].append(w)
            rss[name] = max(rss[name], r)
    if rounds is not None:
        rounds.update(walls)
    return {n: (statistics.median(walls[n]), rss[n]) for n in walls}


def wall(cmd, stdin=None):
    """Wall seconds of one command (no shell), with perf_counter (finer than time(1))."""
    import time
    with open(stdin) if stdin else open(os.devnull) as f:
        t = time.perf_counter()
        subprocess.run(cmd.split(), stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t


def live_views(work, corpus, runs):
    """Issue 15: statusline cold and warm on a 100 MB transcript; watch's
    update time with the whole tree as history against a small one."""
    import json
    session = os.path.join(work, "statusline", "projects", "-bench", "session.jsonl")
    os.makedirs(os.path.dirname(session), exist_ok=True)
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs if f.endswith(".jsonl"))
    with open(session, "wb") as out:
        for path in files:
            with open(path, "rb") as f:
                data = f.read()
            room = 100 * 1048576 - out.tell()
            if len(data) >= room:
                out.write(data[:data.rindex(b"\n", 0, room) + 1])
                break
            out.write(data)
    with open(session, "rb") as f:
        f.seek(-200_000, 2)
        tail = f.read()
    append = tail[tail.index(b"\n") + 1:]
    status = os.path.join(work, "status.json")
    with open(status, "w") as f:
        json.dump({"session_id": "bench", "transcript_path": session}, f)
    cache = os.path.join(work, "statusline-cache")
    line = "%s statusline --itpm 2000000 --cache-dir %s" % (TG, cache)
    cold, warm, same = [], [], []
    for _ in range(runs * 3):
        shutil.rmtree(cache, ignore_errors=True)
        cold.append(wall(line, status))
        with open(session, "ab") as f:
            f.write(append)  # a few requests, as a session adds between two lines
        warm.append(wall(line, status))
        same.append(wall(line, status))
    mb = os.path.getsize(session) / 1048576
    small = os.path.join(work, "watch-small")
    if not os.path.isdir(small):
        os.makedirs(os.path.join(small, "projects", "-p"))
        shutil.copy(files[0], os.path.join(small, "projects", "-p", "s.jsonl"))
    # The same files, each cut to its first two lines: as many files to look
    # at, almost no bytes (an update's walk costs per file, its reading per byte).
    thin = os.path.join(work, "watch-thin")
    if not os.path.isdir(thin):
        for path in files:
            dest = os.path.join(thin, os.path.relpath(path, corpus))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(path, "rb") as f, open(dest, "wb") as out:
                out.write(b"".join(f.readlines()[:2]))
    updates = 50
    watch = {}
    for name, tree in (("one small file", small), ("the same %d files, 2 lines each" % len(files), thin),
                       ("full", corpus)):
        size = int(subprocess.run(["du", "-sb", tree], capture_output=True, text=True).stdout.split()[0]) / 1048576
        one = statistics.median(wall("%s watch %s --iterations 1 --interval 0" % (TG, tree)) for _ in range(runs))
        many = statistics.median(
            wall("%s watch %s --iterations %d --interval 0" % (TG, tree, updates + 1)) for _ in range(runs))
        watch[name] = (size, one, (many - one) / updates)
    med = statistics.median
    L = ["", "## Live views (issue 15)", "",
         "`statusline` on a %.0f MB transcript (median of %d): "
         "cold (no state) %.0f ms, warm after %.0f KB were appended %.1f ms, unchanged %.1f ms."
         % (mb, len(cold), med(cold) * 1000, len(append) / 1024, med(warm) * 1000, med(same) * 1000), "",
         "`watch`: one update with the history read first, then %d more with nothing new (median of %d):" % (updates, runs),
         "", "| history | MB | first update (reads it all) | each later update |", "|---|---:|---:|---:|"]
    # Each later update walks the tree (a stat per file) and reads nothing.
    for name, (size, one, per) in watch.items():
        L.append("| %s | %.0f | %.0f ms | %.2f ms |" % (name, size, one * 1000, per * 1000))
    G = ["| statusline warm on 100 MB ≤ 25 ms (\"well under 50 ms\") | %.1f ms | %s |" % (
        med(warm) * 1000, "met" if med(warm) < 0.025 else "**missed**")]
    return L, G


def small_records(path, n):
    """n distinct one-line responses of about 110 bytes each, no time."""
    if os.path.exists(path):
        return
    with open(path, "w") as f:
        for i in range(n):
            f.write('{"message":{"id":"msg_%08d","model":"claude-sonnet-4-5","usage":'
                    '{"input_tokens":%d,"output_tokens":%d}}}\n' % (i, 1 + i % 997, 1 + i % 991))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--live-only", action="store_true")
    a = ap.parse_args()
    subprocess.run(BUILD, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    work = os.environ.get("BENCH_DIR", "/tmp/tokengap-bench")
    os.makedirs(work, exist_ok=True)
    corpus = os.path.join(work, "tree-%d" % a.size)
    if not os.path.isdir(os.path.join(corpus, "projects")):
        subprocess.run([sys.executable, os.path.join(ROOT, "Scripts/gen-corpus.py"), corpus,
                        str(a.size), "42"], check=True)
    files = subprocess.run("find %s -name '*.jsonl' | wc -l" % corpus, shell=True,
                           capture_output=True, text=True).stdout.strip()
    mb = int(subprocess.run(["du", "-sb", corpus], capture_output=True, text=True)
             .stdout.split()[0]) / 1048576
    subprocess.run("find %s -name '*.jsonl' -print0 | xargs -0 cat > /dev/null" % corpus,
                   shell=True)
    live_lines, live_goals = live_views(work, corpus, a.runs)
    if a.live_only:
        print("\n".join(live_lines + [""] + live_goals))
        return
    empty_home = tempfile.mkdtemp()
    ai_env = dict(os.environ, CLAUDE_CONFIG_DIR=corpus, HOME=empty_home)
    main_job = "%s analyze %s --by session --format csv -q" % (TG, corpus)
    # Every file wc -l reads, named on its command line (no find, no xargs:
    # started as directly as tokengap is).
    jsonl = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs if f.endswith(".jsonl"))
    cmds = [
        ("wc -l", ["wc", "-l"] + jsonl, None),
        ("tokengap analyze --by session --format csv", main_job, None),
        ("the same with --jobs 1", main_job + " --jobs 1", None),
    ]
    # --jobs 1 is meant to be a one-core run throughout: pinned to one core
    # it should take as long (else the ratio below is not a scaling).
    taskset = shutil.which("taskset")
    if taskset:
        cmds.append(("the same with --jobs 1, pinned to one core (taskset -c 0)",
                     "%s -c 0 %s --jobs 1" % (taskset, main_job), None))
    # The machine's own parallelism in the same rounds: one CPU-bound loop
    # (awk, started as directly as the rest) against two at once, each about
    # as long as the main job. On two idle cores the two take as long as one;
    # a host that lends two threads of one core, or takes time from one,
    # makes them slower, and --jobs 2 cannot do better than that.
    awk = shutil.which("awk")
    if awk:
        probe = "%s 'BEGIN{for(i=0;i<2000000;i++);}'" % awk
        spent = statistics.median(timed(probe)[0] for _ in range(3))
        iterations = int(2000000 * 0.25 / max(spent, 0.01))
        loop = "%s 'BEGIN{for(i=0;i<%d;i++);}'" % (awk, iterations)
        cmds.append(("one CPU loop (awk), for the ceiling", "%s; wait" % loop, None))
        cmds.append(("two CPU loops at once, for the ceiling", "%s & %s; wait" % (loop, loop), None))
    aiburn = shutil.which("aiburn")
    if aiburn:
        version = subprocess.run([aiburn, "--version"], capture_output=True, text=True).stdout.strip()
        cmds.append(("aiburn %s daily --claude --json" % version,
                     "%s daily --claude --json" % aiburn, ai_env))
    cmds.append(("python json.loads + de-duplication",
                 "%s %s %s" % (sys.executable, os.path.join(ROOT, "Scripts/baseline_json.py"), corpus), None))
    # And how much reading the tree's files scales: `wc -l` of every file
    # against two `wc -l`s of half the files each, at once (the copy from
    # the page cache is about a quarter of tokengap's reading: where it
    # scales less than twice, the reading does too).
    listing = jsonl
    lists = tempfile.mkdtemp()
    for name, part in (("all", listing), ("a", listing[0::2]), ("b", listing[1::2])):
        with open(os.path.join(lists, name), "w") as f:
            f.write("\0".join(part))
    cat = "xargs -0 -a %s wc -l > /dev/null"
    read_one = [timed(cat % os.path.join(lists, "all"))[0] for _ in range(5)]
    read_two = [timed("(%s) & (%s); wait" % (cat % os.path.join(lists, "a"), cat % os.path.join(lists, "b")))[0]
                for _ in range(5)]
    read_scaling = statistics.median(read_one) / statistics.median(read_two)
    main_rounds = {}
    main = alternate(cmds, a.runs, main_rounds)
    # The machine's own parallelism in the same rounds (the awk loops above).
    ceiling = None
    if "two CPU loops at once, for the ceiling" in main:
        ceiling = 2 * main["one CPU loop (awk), for the ceiling"][0] / main["two CPU loops at once, for the ceiling"][0]
    out = tempfile.mkdtemp()
    # Issue 16, item 3: the tree's requests as tokengap's own rows, read back
    # against the transcripts they came from (the same requests), in one run.
    rows = os.path.join(out, "rows.jsonl")
    subprocess.run("%s analyze %s --by request --format jsonl -q -o %s" % (TG, corpus, rows), shell=True, check=True)
    rows_mb = os.path.getsize(rows) / 1048576
    rows_csv = os.path.join(out, "rows.csv")
    subprocess.run("%s analyze %s --by request --format csv --rows -q -o %s" % (TG, corpus, rows_csv),
                   shell=True, check=True)
    rows_read = alternate([
        ("transcripts: analyze TREE --by session --format csv", main_job, None),
        ("rows: analyze rows.jsonl --by session --format csv",
         "%s analyze %s --by session --format csv -q" % (TG, rows), None),
        ("rows as CSV: analyze rows.csv --by session --format csv",
         "%s analyze %s --by session --format csv -q" % (TG, rows_csv), None),
    ], a.runs)
    others = alternate([
        ("analyze --by request --format csv", "%s analyze %s --by request --format csv -q" % (TG, corpus), None),
        ("analyze --by request --format jsonl", "%s analyze %s --by request --format jsonl -q" % (TG, corpus), None),
        ("simulate --tier build", "%s simulate %s --tier build -q" % (TG, corpus), None),
        ("chart --svg", "%s chart %s --svg --out %s/chart -q" % (TG, corpus, out), None),
        ("report", "%s report %s --out %s/report.md -q" % (TG, corpus, out), None),
        ("main job (again, for the ratios)", main_job, None),
    ], a.runs)
    # Process start, as a shell starts it: 21 starts in one bash loop, the
    # loop timed whole and divided (a start through Python and time(1)
    # costs several milliseconds more, and more on a busy host, than the
    # program takes). /bin/true through the same loop, for the floor.
    def starts(cmd):
        loop = "for i in $(seq 21); do %s; done" % cmd
        return statistics.median(timed(loop)[0] for _ in range(7)) / 21
    version = {"tokengap --version": (starts("%s --version" % TG), 0), "/bin/true": (starts("/bin/true"), 0)}

    memory = []
    for n in ([1_000_000] if a.quick else [1_000_000, 10_000_000]):
        path = os.path.join(work, "small-%d.jsonl" % n)
        small_records(path, n)
        w, r = timed("%s analyze %s --by session --format csv -q" % (TG, path))
        memory.append((n, os.path.getsize(path) / 1048576, w, r))

    har = []
    gen_har = os.path.join(ROOT, "Scripts/gen-har.py")
    if os.path.exists(gen_har):
        # Both sizes alternating, medians: the doubling is a ratio within the run.
        sizes = [100_000] if a.quick else [100_000, 200_000]
        paths = {n: os.path.join(work, "entries-%d.har" % n) for n in sizes}
        for n, path in paths.items():
            if not os.path.exists(path):
                subprocess.run([sys.executable, gen_har, path, str(n)], check=True)
        har_rounds = {}
        timings = alternate([(str(n), "%s analyze %s -q" % (TG, paths[n]), None) for n in sizes], a.runs, har_rounds)
        for n in sizes:
            w, r = timings[str(n)]
            har.append((n, os.path.getsize(paths[n]) / 1048576, w, r))

    wc = main["wc -l"][0]
    tg = main["tokengap analyze --by session --format csv"][0]
    j1 = main["the same with --jobs 1"][0]
    ai = next((v[0] for k, v in main.items() if k.startswith("aiburn")), None)
    again = others["main job (again, for the ratios)"][0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    L = []
    L += ["# Benchmarks", "", "Reproduce:", "", "```sh",
          "Scripts/bench.py --size %d --runs %d%s   # writes this file" % (a.size, a.runs, " --quick" if a.quick else ""),
          "```", "",
          "Machine: %d cores, %s, %.0f GiB. Toolchain: %s. Commit: %s. Date: %s. Binary: `%s` (as `Scripts/install.sh` builds it)." % (
              os.cpu_count(), cpu, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
              (swift.stdout or swift.stderr).splitlines()[0], commit,
              subprocess.run(["date", "-u", "+%Y-%m-%d"], capture_output=True, text=True).stdout.strip(),
              " ".join(BUILD)),
          "",
          "Corpus: `Scripts/gen-corpus.py` seed 42, %.0f MB in %s files (log-normal sizes, a few files of tens of MB; 1–4 streaming copies per response; large tool results; progress lines with embedded subagent copies). Files in the page cache; %d alternating runs, medians; peak RSS is the largest of the runs." % (mb, files, a.runs),
          "",
          "Parallelism available during the run: %s (two CPU-bound loops at once against one, in the same rounds as the commands; `--jobs 2` cannot beat it). Reading the tree's files with two `wc -l`s at once (half the files each) was %.2f× as fast as with one (the kernel's copy from the page cache, about a quarter of tokengap's reading, scales that much here: with the rest at 2×, the reading as a whole would reach about %.2f×)." % (
              "%.2f of 2 cores" % ceiling if ceiling else "not measured (no awk)", read_scaling,
              1 / (0.25 / read_scaling + 0.75 / 2)),
          "", "## The main job", "",
          "| command | median wall (s) | MB/s | peak RSS (MB) | × wc -l |", "|---|---:|---:|---:|---:|"]
    for name, (w, r) in main.items():
        L.append("| %s | %.3f | %.0f | %.0f | %.2f |" % (name, w, mb / w if w else 0, r, w / wc))
    L += ["", "## Every command on the same tree", "",
          "| command | median wall (s) | peak RSS (MB) | × the main job |", "|---|---:|---:|---:|"]
    for name, (w, r) in others.items():
        L.append("| %s | %.3f | %.0f | %.2f |" % (name, w, r, w / again))
    L += ["", "## Rows read back (issue 16)", "",
          "The tree exported with `analyze --by request --format jsonl` (%.0f MB of rows) and `--format csv --rows` (%.0f MB), then read with `analyze --by session --format csv`, alternating with the transcripts it came from." % (rows_mb, os.path.getsize(rows_csv) / 1048576), "",
          "| command | median wall (s) | peak RSS (MB) | × the transcripts |", "|---|---:|---:|---:|"]
    tr = rows_read["transcripts: analyze TREE --by session --format csv"][0]
    for name, (w, r) in rows_read.items():
        L.append("| %s | %.3f | %.0f | %.2f |" % (name, w, r, w / tr))
    L += ["", "## Memory per request", "",
          "One line per distinct request (`message.id` only, no time), `analyze --by session --format csv`.", "",
          "| records | file (MB) | wall (s) | peak RSS (MB) |", "|---:|---:|---:|---:|"]
    for n, size, w, r in memory:
        L.append("| %s | %.0f | %.2f | %.0f |" % (format(n, ","), size, w, r))
    slope = None
    if len(memory) == 2:
        (n1, _, _, r1), (n2, _, _, r2) = memory
        slope = (r2 - r1) * 1048576 / (n2 - n1)
        L += ["", "Growth between the two: %.0f bytes per request." % slope]
    if har:
        L += ["", "## HAR captures (read window by window, entry by entry)", "", "`Scripts/gen-har.py OUT N`, then `tokengap analyze FILE -q`, the two sizes alternating, medians.", "",
              "| entries | file (MB) | wall (s) | peak RSS (MB) |", "|---:|---:|---:|---:|"]
        for n, size, w, r in har:
            L.append("| %s | %.0f | %.2f | %.0f |" % (format(n, ","), size, w, r))
    v = version["tokengap --version"][0]
    L += ["", "`tokengap --version`: %.1f ms, process start included (21 starts in one bash loop, the loop's median of 7 divided by 21; `/bin/true` through the same loop: %.1f ms)." % (
        v * 1000, version["/bin/true"][0] * 1000)]

    def row(goal, value, ok):
        return "| %s | %s | %s |" % (goal, value, "met" if ok else "**missed**")
    G = ["", "## Goals (issue 11)", "", "| goal | measured | |", "|---|---|---|"]
    G.append(row("main job ≤ 1.6× `wc -l`", "%.2f×" % (tg / wc), tg / wc <= 1.6))
    if ai:
        G.append(row("main job ≥ 2× faster than aiburn", "%.2f×" % (ai / tg), ai / tg >= 2))
    G.append(row("main job peak RSS ≤ 64 MB", "%.0f MB" % main["tokengap analyze --by session --format csv"][1],
                 main["tokengap analyze --by session --format csv"][1] <= 64))
    pinned = next((v[0] for k, v in main.items() if "pinned" in k), None)
    # Per round: --jobs 1 over --jobs 2 of the same round.
    per_round = [one / two for one, two in zip(main_rounds["the same with --jobs 1"],
                                               main_rounds["tokengap analyze --by session --format csv"])]
    G.append(row("`--jobs 2` ≥ 1.8× faster than `--jobs 1`",
                 "%.2f× (rounds %.2f–%.2f×%s; two `wc -l`s read the files %.2f× as fast as one%s)" % (
                     j1 / tg, min(per_round), max(per_round),
                     "; in the same rounds two CPU loops at once did %.2f× the work of one: %.0f %% of that reached" % (
                         ceiling, 100 * (j1 / tg) / ceiling) if ceiling else "",
                     read_scaling,
                     "; `--jobs 1` pinned to one core took %.2f× its unpinned time" % (pinned / j1) if pinned else ""),
                 j1 / tg >= 1.8))
    for name, (w, r) in others.items():
        if name.startswith("main job"):
            continue
        G.append(row("%s ≤ 2× the main job and ≤ 128 MB" % name, "%.2f×, %.0f MB" % (w / again, r),
                     w / again <= 2 and r <= 128))
    rw = rows_read["rows: analyze rows.jsonl --by session --format csv"][0]
    G.append(row("reading the rows ≤ reading the transcripts of the same requests (issue 16)",
                 "%.3f s against %.3f s (%.2f×)" % (rw, tr, rw / tr), rw <= tr))
    rc = rows_read["rows as CSV: analyze rows.csv --by session --format csv"][0]
    G.append(row("reading the rows as CSV ≤ reading the transcripts (issue 16)",
                 "%.3f s against %.3f s (%.2f×)" % (rc, tr, rc / tr), rc <= tr))
    for n, _, _, r in memory:
        limit = 250 if n == 1_000_000 else 1200
        G.append(row("%s records under %d MB" % (format(n, ","), limit), "%.0f MB" % r, r < limit))
    if slope is not None:
        G.append(row("≤ 100 bytes per distinct request beyond a fixed base", "%.0f bytes" % slope, slope <= 100))
    if har:
        n, _, w, _ = har[0]
        G.append(row("100,000-entry HAR under 2 s", "%.2f s" % w, w < 2))
        if len(har) == 2:
            ratios = [b / a for a, b in zip(har_rounds[str(har[0][0])], har_rounds[str(har[1][0])])]
            G.append(row("doubling the entries at most doubles the time",
                         "%.2f× (rounds %.2f–%.2f×)" % (har[1][2] / w, min(ratios), max(ratios)), har[1][2] / w <= 2))
    G.append(row("`tokengap --version` ≤ 10 ms", "%.1f ms" % (v * 1000), v <= 0.010))
    G += live_goals
    L += live_lines
    with open(os.path.join(ROOT, "notebooks-md/0005-benchmarks.md"), "w") as f:
        f.write("\n".join(L + G) + "\n")
    print("\n".join(G))


if __name__ == "__main__":
    main()
