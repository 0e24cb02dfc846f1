#!/usr/bin/env python3
"""Helpers for scripts/bench.sh: CPU time from /proc, oha and mcpgate-bench output
parsing, the side-by-side table and the CPU-per-call regression check.

  bench_report.py find-child ROOT COMM       topmost descendant of ROOT named COMM
  bench_report.py ticks NAME=PID...          JSON: CPU clock ticks and context switches of each process tree
  bench_report.py cpu BEFORE AFTER CALLS     tab lines: µs of CPU and context switches per call, by name
  bench_report.py oha FILE                   tab lines: metric, value (oha --output-format json)
  bench_report.py mcpgate-bench LINE         tab lines: metric, value
  bench_report.py report RESULTS             the table (RESULTS: round target tool metric value)
  bench_report.py recorded DOC [KEY]         the figure recorded in DOC as <!-- KEY: N --> (cpu-per-call-us)
  bench_report.py others-start ROOT          JSON: the machine's and ROOT's tree's CPU ticks now
  bench_report.py others-since FILE ROOT     how many cores the other processes kept busy since
  bench_report.py perf-groups FILE           perf report --sort dso,symbol lines summed by crate
  bench_report.py dhat-sites FEW MANY CALLS  allocations per call, by site: two DHAT outputs of runs
                                             CALLS calls apart, differenced (start-up cancels out)
"""

import json
import os
import re
import statistics
import sys

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RECORDED = r"<!--\s*{key}:\s*([0-9.]+)\s*-->"


def stat_fields(pid):
    """/proc/<pid>/stat after the command name (which may hold spaces)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2 :].split()


def processes():
    """pid -> (ppid, comm) for every process visible now."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
            table[int(entry)] = (int(stat_fields(entry)[1]), comm)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return table


def descendants(root, table):
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_ticks(root, table, kernel_only=False):
    """utime+stime of every live process in the tree, plus cutime+cstime: the CPU of
    children that exited and were reaped (short-lived Postgres backends) is kept.
    With kernel_only, stime+cstime alone: the time spent in system calls and the kernel."""
    total = 0
    for pid in descendants(root, table):
        try:
            fields = stat_fields(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        # Fields 14-17 of proc(5): utime stime cutime cstime; index 0 here is field 3.
        times = [int(v) for v in fields[11:15]]
        total += times[1] + times[3] if kernel_only else sum(times)
    return total


def find_child(root, comm):
    table = processes()
    for pid in sorted(descendants(root, table)):
        if pid != root and table[pid][1] == comm and table[table[pid][0]][1] != comm:
            return pid
    raise SystemExit(f"no process named {comm} under {root}")


def tree_switches(root, table):
    """Context switches (voluntary and not) of every thread of every live process in the
    tree: each one is a wake-up or a preemption, the cost a proxy adds per round trip."""
    total = 0
    for pid in descendants(root, table):
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except (FileNotFoundError, ProcessLookupError):
            continue
        for tid in threads:
            try:
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    total += sum(int(line.split()[1]) for line in f if "ctxt_switches" in line)
            except (FileNotFoundError, ProcessLookupError):
                continue
    return total


def ticks(pairs):
    table = processes()
    out = {"ticks": {}, "kernel_ticks": {}, "switches": {}}
    for pair in pairs:
        name, pid = pair.split("=", 1)
        out["ticks"][name] = tree_ticks(int(pid), table)
        out["kernel_ticks"][name] = tree_ticks(int(pid), table, kernel_only=True)
        out["switches"][name] = tree_switches(int(pid), table)
    print(json.dumps(out))


def cpu(before_file, after_file, calls):
    with open(before_file) as f:
        before = json.load(f)
    with open(after_file) as f:
        after = json.load(f)
    for name in before["ticks"]:
        seconds = (after["ticks"][name] - before["ticks"][name]) / CLOCK_TICKS
        print(f"cpu_us_{name}\t{seconds * 1e6 / int(calls):.1f}")
        kernel = (after["kernel_ticks"][name] - before["kernel_ticks"][name]) / CLOCK_TICKS
        print(f"kernel_us_{name}\t{kernel * 1e6 / int(calls):.1f}")
        switches = after["switches"][name] - before["switches"][name]
        print(f"switches_{name}\t{switches / int(calls):.2f}")


def oha(path):
    with open(path) as f:
        data = json.load(f)
    percentiles = data["latencyPercentiles"]
    statuses = data.get("statusCodeDistribution", {})
    ok = statuses.get("200", 0)
    failed = sum(statuses.values()) - ok + sum(data.get("errorDistribution", {}).values())
    print(f"rps\t{data['summary']['requestsPerSec']:.0f}")
    print(f"p50_us\t{percentiles['p50'] * 1e6:.0f}")
    print(f"p99_us\t{percentiles['p99'] * 1e6:.0f}")
    print(f"calls\t{ok}")
    print(f"errors\t{failed}")


def mcpgate_bench(line):
    for key, metric in (("throughput", "rps"), ("p50", "p50_us"), ("p99", "p99_us"), ("calls", "calls"), ("errors", "errors")):
        match = re.search(rf"\b{key}=([0-9.]+)", line)
        if not match:
            raise SystemExit(f"no {key}= in mcpgate-bench output: {line}")
        print(f"{metric}\t{match.group(1)}")


TARGETS = (("direct", "upstream direct"), ("nginx", "nginx `proxy_pass` (no policy)"), ("mcpgate", "mcpgate (Redis limit rule, audit queued)"),
           ("peer", "mcp-proxy 0.6.0 (bearer token, in-process limit, no audit)"))
# The process tree read as the 'proxy' column of each target that has one (the names
# bench.sh's `watched` gives): nginx's master and workers, mcpgate's proxy, mcp-proxy.
PROXY_PROCESS = {"nginx": "nginx", "mcpgate": "proxy", "peer": "peer"}
CPU_COLUMNS = (("proxy", "proxy"), ("upstream", "upstream"), ("redis", "Redis"), ("postgres", "Postgres"))


def report(path):
    values = {}
    with open(path) as f:
        for line in f:
            _round, target, tool, metric, value = line.rstrip("\n").split("\t")
            values.setdefault((target, tool, metric), []).append(float(value))

    def median(target, tool, metric):
        found = values.get((target, tool, metric))
        return statistics.median(found) if found else None

    def against_nginx(what, figure):
        """One line after a table: each proxy's figure over nginx's in the same run."""
        base = figure("nginx")
        if not base:
            return
        ratios = [f"{label.split(' (')[0]} {figure(target) / base:.2f}×" for target, label in TARGETS
                  if target not in ("direct", "nginx") and figure(target) is not None]
        if ratios:
            print(f"\n{what} over nginx's: " + ", ".join(ratios))

    rounds = max((len(v) for v in values.values()), default=0)
    for tool, what in (("oha", "oha 1.16 (open loop with latency correction; closed loop, 32 connections)"),
                       ("mcpgate-bench", "mcpgate-bench (open loop from scheduled start; closed loop, 32 workers)")):
        direct_max = median("direct", tool, "max_rps")
        direct = (median("direct", tool, "open_p50_us"), median("direct", tool, "open_p99_us"))
        if direct_max is None:
            continue
        print(f"\n{what}, medians of {rounds} rounds:\n")
        print("| target | max calls/s | of direct | added p50 / p99 at 1,000/s | errors |")
        print("|---|---|---|---|---|")
        for target, label in TARGETS:
            peak = median(target, tool, "max_rps")
            if peak is None:
                continue
            errors = sum(sum(values.get((target, tool, m), [])) for m in ("open_errors", "max_errors"))
            if target == "direct":
                added = f"— (p50 {direct[0]:.0f} µs, p99 {direct[1]:.0f} µs)"
            else:
                p50, p99 = median(target, tool, "open_p50_us"), median(target, tool, "open_p99_us")
                added = f"{p50 - direct[0]:+,.0f} µs / {p99 - direct[1]:+,.0f} µs"
            print(f"| {label} | {peak:,.0f} | {peak / direct_max:.2f} | {added} | {errors:.0f} |")
        against_nginx("peak", lambda target: median(target, tool, "max_rps"))

    print(f"\nCPU per call at 1,000 calls/s (µs, from /proc over each oha open-loop run, medians of {rounds} rounds;"
          " 'proxy' is nginx's process tree for nginx, mcpgate's proxy process for mcpgate):\n")
    print("| target | " + " | ".join(label for _, label in CPU_COLUMNS) + " | proxy's context switches a call |")
    print("|---|" + "---|" * (len(CPU_COLUMNS) + 1))
    for target, label in TARGETS:
        cells = []
        for name, _ in CPU_COLUMNS:
            source = {"proxy": PROXY_PROCESS.get(target)}.get(name, name)
            value = median(target, "oha", f"cpu_us_{source}") if source else None
            cells.append("—" if value is None else f"{value:.0f}")
        source = PROXY_PROCESS.get(target)
        switches = median(target, "oha", f"switches_{source}") if source else None
        cells.append("—" if switches is None else f"{switches:.2f}")
        if any(cell != "—" for cell in cells):
            print(f"| {label.split(' (')[0]} | " + " | ".join(cells) + " |")
    against_nginx("proxy CPU per call", lambda target: median(target, "oha", f"cpu_us_{PROXY_PROCESS[target]}"))
    if median("peer", "oha", "cpu_us_peer") is not None:
        print("\n('proxy' is mcp-proxy's one process for mcp-proxy 0.6.0; its limit counts in that process and it"
              " writes no audit, so the Redis and Postgres cells of its row are the deployment's idle cost.)")
    proxy = median("mcpgate", "oha", "cpu_us_proxy")
    if proxy is not None:
        print(f"\nmachine-readable: cpu-per-call-us {proxy:.0f} (mcpgate proxy, median of {rounds} rounds)")


def recorded(path, key="cpu-per-call-us"):
    with open(path) as f:
        found = re.findall(RECORDED.format(key=re.escape(key)), f.read())
    if len(found) != 1:
        raise SystemExit(f"{path} must hold exactly one <!-- {key}: N --> line, it holds {len(found)}")
    print(found[0])


def machine_busy_ticks():
    """All CPUs' non-idle time (user nice system irq softirq steal) from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq + steal


def others_start(root):
    import time

    print(json.dumps({"machine": machine_busy_ticks(), "ours": tree_ticks(root, processes()), "at": time.monotonic()}))


def others_since(path, root):
    """The share of the machine that processes outside ROOT's tree (other people's
    builds) used: the load average alone would count the benchmark itself."""
    import time

    with open(path) as f:
        start = json.load(f)
    machine = machine_busy_ticks() - start["machine"]
    ours = tree_ticks(root, processes()) - start["ours"]
    elapsed = time.monotonic() - start["at"]
    cores = max(machine - ours, 0) / CLOCK_TICKS / elapsed
    print(f"{cores:.2f}")


PERF_LINE = re.compile(r"^\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$")


def crate_of(dso, kind, symbol):
    """The crate a sample's symbol belongs to, by its path's first segment (the
    inner type's for drop glue), or the binary outside the proxy's own."""
    if kind == "k":
        return "kernel"
    if "mcpgate" not in dso:
        return dso
    symbol = symbol.replace("core::ptr::drop_in_place<", "").lstrip("<&* ")
    segment = symbol.split("::", 1)[0].split("<", 1)[0].strip()
    return {"core": "core/alloc/std", "alloc": "core/alloc/std", "std": "core/alloc/std"}.get(segment, segment or "?")


def perf_groups(path):
    groups = {}
    with open(path) as f:
        for line in f:
            match = PERF_LINE.match(line)
            if match:
                share, dso, kind, symbol = match.groups()
                key = crate_of(dso, kind, symbol)
                groups[key] = groups.get(key, 0.0) + float(share)
    for key, share in sorted(groups.items(), key=lambda item: -item[1])[:20]:
        print(f"{share:6.2f}% {key}")


# A DHAT frame, `0x…: function (file:line)` or `0x…: function (in object)`; the
# allocator's, the standard library's and inlined helpers' frames are skipped, so a
# site is named by the first frames of the code that wanted the memory.
DHAT_FRAME = re.compile(r"^0x[0-9A-Fa-f]+: (?P<function>.*) \((?P<place>[^()]*)\)$")


def dhat_site(frames, depth=3):
    named = []
    for text in frames:
        match = DHAT_FRAME.match(text)
        if not match:
            continue
        function, place = match.group("function"), match.group("place")
        if function == "UnknownInlinedFun" or place.startswith(("library/", "in ")):
            continue
        named.append(f"{function[:90]} ({place})")
        if len(named) == depth:
            break
    return " <- ".join(named) or "?"


def dhat_sites(few_path, many_path, calls, shown=30):
    """Allocations per call by site: the run with CALLS more calls less the other, so
    what start-up, warm-up and shutdown allocate cancels out. (DHAT's `tbk` is a
    site's blocks, `tb` its bytes.)"""

    def sites(path):
        with open(path) as f:
            data = json.load(f)
        frames = data["ftbl"]
        found = {}
        for point in data["pps"]:
            key = dhat_site([frames[index] for index in point["fs"]])
            blocks, bytes_ = found.get(key, (0, 0))
            found[key] = (blocks + point["tbk"], bytes_ + point["tb"])
        return found

    few, many = sites(few_path), sites(many_path)
    calls = int(calls)
    per_call = []
    for key, (blocks, bytes_) in many.items():
        base_blocks, base_bytes = few.get(key, (0, 0))
        if blocks > base_blocks:
            per_call.append(((blocks - base_blocks) / calls, (bytes_ - base_bytes) / calls, key))
    per_call.sort(reverse=True)
    total = sum(blocks for blocks, _, _ in per_call)
    total_bytes = sum(bytes_ for _, bytes_, _ in per_call)
    print(f"allocations per call: {total:.1f} ({total_bytes:.0f} bytes), by site:")
    for blocks, bytes_, key in per_call[:shown]:
        print(f"  {blocks:6.2f} {bytes_ / max(blocks, 1e-9):7.0f} B  {key[:300]}")


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "find-child":
        print(find_child(int(args[0]), args[1]))
    elif command == "ticks":
        ticks(args)
    elif command == "cpu":
        cpu(*args)
    elif command == "oha":
        oha(args[0])
    elif command == "mcpgate-bench":
        mcpgate_bench(args[0])
    elif command == "report":
        report(args[0])
    elif command == "recorded":
        recorded(*args[:2])
    elif command == "dhat-sites":
        dhat_sites(*args[:3])
    elif command == "perf-groups":
        perf_groups(args[0])
    elif command == "others-start":
        others_start(int(args[0]))
    elif command == "others-since":
        others_since(args[0], int(args[1]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
