#!/usr/bin/env python3
"""Compare two runs of the classifier on the development side, server by server.

Each run is the file the eval test writes with MCPGATE_EVAL_VERDICTS=FILE
(server, tool, label category, label risk, classifier category, classifier risk,
tab-separated). For every server: category and risk right before and after, and the
tools a change fixed or broke. A change that helps one server only is a change fitted
to that server; one that helps several and breaks none is what generalises.

    MCPGATE_EVAL_VERDICTS=/tmp/before.tsv cargo test -p mcpgate-catalog --test eval development
    # ... change the classifier ...
    MCPGATE_EVAL_VERDICTS=/tmp/after.tsv cargo test -p mcpgate-catalog --test eval development
    python3 crates/mcpgate-catalog/eval/compare_verdicts.py /tmp/before.tsv /tmp/after.tsv
"""

import sys

RISKS = ["low", "medium", "high", "critical"]


def read(path):
    rows = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            server, tool, lc, lr, cc, cr = line.rstrip("\n").split("\t")
            rows[(server, tool)] = ((lc, lr), (cc, cr))
    return rows


def right(row):
    (lc, lr), (cc, cr) = row
    return lc == cc, lr == cr


def main(before_path, after_path):
    before, after = read(before_path), read(after_path)
    if set(before) != set(after):
        sys.exit("the two runs cover different tools")
    servers = []
    for server, _ in before:
        if server not in servers:
            servers.append(server)
    helped, hurt = [], []
    print(f"{'server':<26} {'tools':>5}  {'category':>15}  {'risk':>15}  fixed broken")
    for server in servers:
        keys = [k for k in before if k[0] == server]
        counts = []
        for run in (before, after):
            cat = sum(right(run[k])[0] for k in keys)
            risk = sum(right(run[k])[1] for k in keys)
            counts.append((cat, risk))
        fixed = [k[1] for k in keys if before[k][1] != after[k][1] and after[k][0] == after[k][1]]
        broken = [k[1] for k in keys if before[k][1] != after[k][1] and before[k][0] == before[k][1]]
        changed = [k[1] for k in keys if before[k][1] != after[k][1]]
        if not changed:
            continue
        n = len(keys)
        (c0, r0), (c1, r1) = counts
        print(
            f"{server:<26} {n:>5}  {100*c0/n:5.1f} -> {100*c1/n:5.1f}  "
            f"{100*r0/n:5.1f} -> {100*r1/n:5.1f}  {len(fixed):>5} {len(broken):>6}"
        )
        for k in keys:
            if before[k][1] != after[k][1]:
                (lc, lr), (bc, br) = before[k]
                _, (ac, ar) = after[k]
                mark = "fixed" if (ac, ar) == (lc, lr) else "broken" if (bc, br) == (lc, lr) else "moved"
                print(f"    {mark:<6} {k[1]}: label {lc}/{lr}, {bc}/{br} -> {ac}/{ar}")
        gain = (c1 + r1) - (c0 + r0)
        (helped if gain > 0 else hurt if gain < 0 else []).append(server)
    total = len(before)
    for label, run in (("before", before), ("after", after)):
        cat = sum(right(r)[0] for r in run.values())
        risk = sum(right(r)[1] for r in run.values())
        two = sum(abs(RISKS.index(r[0][1]) - RISKS.index(r[1][1])) >= 2 for r in run.values())
        low = sum(r[0][1] in ("high", "critical") and r[1][1] == "low" for r in run.values())
        print(
            f"{label}: {total} tools, category {100*cat/total:.1f}% ({cat}), "
            f"risk {100*risk/total:.1f}% ({risk}), {two} two steps off, {low} high called low"
        )
    print(f"servers helped: {len(helped)} {helped}")
    print(f"servers hurt: {len(hurt)} {hurt}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
