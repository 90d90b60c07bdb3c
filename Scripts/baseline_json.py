#!/usr/bin/env python3
"""Baseline: a plain json.loads loop with de-duplication by (message.id, requestId),
keeping each field's maximum, summing per session. What a careful script would do."""
import json, os, sys
FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
seen = {}
for root, _, files in os.walk(sys.argv[1]):
    for name in files:
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(root, name), "rb") as f:
            for line in f:
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                m = d.get("message") if isinstance(d, dict) else None
                if not isinstance(m, dict) or not isinstance(m.get("usage"), dict):
                    continue
                key = (m.get("id"), d.get("requestId"))
                u = m["usage"]
                cur = seen.get(key)
                vals = [u.get(k) or 0 for k in FIELDS]
                if cur is None:
                    seen[key] = [d.get("sessionId")] + vals
                else:
                    for i, v in enumerate(vals):
                        cur[i + 1] = max(cur[i + 1], v)
sessions = {}
for v in seen.values():
    s = sessions.setdefault(v[0], [0, 0, 0, 0])
    for i in range(4):
        s[i] += v[i + 1]
print(len(seen), "requests", len(sessions), "sessions")
