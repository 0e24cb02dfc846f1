#!/usr/bin/env python3
"""Two models the shipped classifier does not use, measured where neither had seen the tools.

Round 15 (docs/classification.md) asked whether a stronger text model, or a combination of
the rules and the model learned from the former held-out sets themselves, would do better
on fresh catalogues than the naive Bayes model and its one-step blend. Both views come from
the eval's trainer:

    MCPGATE_TRAIN_DUMP=/tmp/fresh.tsv MCPGATE_TRAIN_DUMP_FEATURES=/tmp/dev.tsv \
        cargo test -p mcpgate-catalog --test eval train_leave -- --nocapture
    python3 crates/mcpgate-catalog/eval/other_models.py stack /tmp/fresh.tsv
    python3 crates/mcpgate-catalog/eval/other_models.py logistic /tmp/dev.tsv /tmp/fresh.tsv 1 4

`stack` needs nothing beyond Python: a table from (the rules' risk as first measured, the
model's likeliest risk, how sure the model is) to the labelled risk, learned on nine former
held-out sets and applied to the tenth, in turn, moving a risk one step where the other sets'
majority says so. `logistic` needs numpy and scikit-learn (a venv; nothing the product or CI
installs): L2 logistic regression over the model's own features, trained leaving one server
out, like the shipped model's figures.
"""

import collections
import json
import pathlib
import sys

RISKS = ["low", "medium", "high", "critical"]
SPLIT = pathlib.Path(__file__).with_name("split.json")


def set_of_server():
    split = json.loads(SPLIT.read_text())
    return {f.removesuffix(".json"): key for key, files in split.items() for f in files}


def score(pairs):
    """pairs: (predicted risk index, labelled risk index)."""
    pairs = list(pairs)
    right = sum(p == g for p, g in pairs)
    off = sum(abs(p - g) >= 2 for p, g in pairs)
    low = sum(p == 0 and g >= 2 for p, g in pairs)
    return f"{len(pairs)} tools: risk {right * 100 / len(pairs):.1f}%, {off} two steps off, {low} high called low"


def read_fresh(path):
    """server, tool, label category, label risk, rules category, rules risk, confidence,
    from base (0/1), six category probabilities, four risk probabilities."""
    sets = set_of_server()
    rows = []
    for line in pathlib.Path(path).read_text().splitlines():
        c = line.split("\t")
        risks = [float(x) for x in c[14:18]]
        rows.append(
            {
                "server": c[0],
                "tool": c[1],
                "label": RISKS.index(c[3]),
                "rules": RISKS.index(c[5]),
                "model": max(range(4), key=lambda i: risks[i]),
                "sure": max(risks),
                "set": sets[c[0]],
            }
        )
    return rows


def bucket(p):
    return 0 if p < 0.5 else 1 if p < 0.7 else 2 if p < 0.85 else 3


def stack(fresh_path):
    rows = read_fresh(fresh_path)
    assert len({r["set"] for r in rows}) >= 2, "precondition: at least two former held-out sets"
    print("rules as first measured  ", score((r["rules"], r["label"]) for r in rows))
    print("model alone (LOSO)       ", score((r["model"], r["label"]) for r in rows))
    for name, key in [
        ("rules x model", lambda r: (r["rules"], r["model"])),
        ("rules x model x sureness", lambda r: (r["rules"], r["model"], bucket(r["sure"]))),
    ]:
        for least in (5, 10, 20):
            pairs = []
            for held in sorted({r["set"] for r in rows}):
                table = collections.defaultdict(collections.Counter)
                for r in rows:
                    if r["set"] != held:
                        table[key(r)][r["label"]] += 1
                for r in rows:
                    if r["set"] != held:
                        continue
                    risk = r["rules"]
                    seen = table.get(key(r))
                    if seen and sum(seen.values()) >= least:
                        best, n = seen.most_common(1)[0]
                        if n > seen[risk] and abs(best - risk) == 1:
                            risk = best
                    pairs.append((risk, r["label"]))
            print(f"stack {name:<24} (cells of {least:>2}+)", score(pairs))


def logistic(dev_path, fresh_path, strengths):
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    tools = []
    for line in pathlib.Path(dev_path).read_text().splitlines():
        c = line.split("\t")
        tools.append((c[0], c[1], RISKS.index(c[3]), c[6].split("|") if c[6] else []))
    fresh = {(r["server"], r["tool"]): r for r in read_fresh(fresh_path)}
    assert fresh and all(k in {(t[0], t[1]) for t in tools} for k in fresh), "precondition"
    x = DictVectorizer().fit_transform([{f: 1 for f in t[3]} for t in tools])
    y = np.array([t[2] for t in tools])
    servers = np.array([t[0] for t in tools])
    fresh_rows = [i for i, t in enumerate(tools) if (t[0], t[1]) in fresh]
    print("naive Bayes, fresh view  ", score((fresh[(tools[i][0], tools[i][1])]["model"], y[i]) for i in fresh_rows))
    for strength in strengths:
        predicted = np.zeros(len(tools), dtype=int)
        for server in sorted(set(servers)):
            own = servers == server
            model = LogisticRegression(C=strength, max_iter=2000).fit(x[~own], y[~own])
            predicted[own] = model.predict(x[own])
        print(f"logistic C={strength}, LOSO   ", score(zip(predicted, y)))
        print(f"logistic C={strength}, fresh  ", score((predicted[i], y[i]) for i in fresh_rows))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "stack":
        stack(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == "logistic":
        logistic(sys.argv[2], sys.argv[3], [float(s) for s in sys.argv[4:]])
    else:
        sys.exit(__doc__)
