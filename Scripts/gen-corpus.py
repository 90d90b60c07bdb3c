#!/usr/bin/env python3
"""Generates a seeded, realistic Claude Code transcript tree of a requested size.

File sizes follow real histories (log-normal: median ~100 KB, p99 ~5 MB, plus a few
files of tens of MB); sessions carry streaming duplicates (2-4 lines per message.id,
growing output_tokens), large tool results, progress lines that embed subagent copies,
subagent files, summary and system lines. Content is filler; only the shape is real.

Usage: Scripts/gen-corpus.py OUT_DIR SIZE_MB [SEED]
"""
import json, os, random, sys, uuid

def main():
    out, size_mb = sys.argv[1], float(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    rng = random.Random(seed)
    target = int(size_mb * 1024 * 1024)
    models = ["claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929", "claude-opus-4-6",
              "claude-sonnet-4-6", "claude-haiku-4-5-20251001"]
    words = "the quick brown fox jumps over a lazy dog while the compiler reports no errors and tests pass".split()
    def filler(n):
        return " ".join(rng.choice(words) for _ in range(max(1, n // 5)))[:n]
    total, f_index = 0, 0
    big_left = max(1, int(size_mb // 150))  # a few files of tens of MB
    t0 = 1767225600  # 2026-01-01
    while total < target:
        project = "-home-user-src-project-%d" % rng.randint(0, 40)
        pdir = os.path.join(out, "projects", project)
        os.makedirs(pdir, exist_ok=True)
        if big_left > 0 and rng.random() < 0.02:
            fsize = rng.randint(20, 60) * 1024 * 1024
            big_left -= 1
        else:
            fsize = int(min(rng.lognormvariate(11.5, 1.5), 8 * 1024 * 1024))  # median ~100 KB
        fsize = min(fsize, target - total + 4096)
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        path = os.path.join(pdir, sid + ".jsonl")
        t = t0 + rng.randint(0, 86400 * 60)
        written = 0
        cache = rng.randint(5000, 20000)
        with open(path, "w") as f:
            def line(obj):
                nonlocal written
                s = json.dumps(obj, separators=(",", ":")) + "\n"
                f.write(s)
                written += len(s)
            line({"type": "summary", "summary": filler(60), "leafUuid": str(uuid.UUID(int=rng.getrandbits(128)))})
            while written < fsize:
                t += rng.randint(2, 90)
                ts = "%s.%03dZ" % (__import__("time").strftime("%Y-%m-%dT%H:%M:%S", __import__("time").gmtime(t)), rng.randint(0, 999))
                env = {"parentUuid": str(uuid.UUID(int=rng.getrandbits(128))), "isSidechain": False, "userType": "external",
                       "cwd": "/home/user/src/" + project, "sessionId": sid, "version": "2.1.97", "gitBranch": "main"}
                # A user turn, often with a large tool result.
                tool = filler(rng.choice([200, 800, 3000, 12000, 40000]))
                line(dict(env, type="user", message={"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_" + uuid.UUID(int=rng.getrandbits(128)).hex[:24], "content": tool}]},
                          uuid=str(uuid.UUID(int=rng.getrandbits(128))), timestamp=ts))
                mid = "msg_01" + uuid.UUID(int=rng.getrandbits(128)).hex[:22]
                rid = "req_011" + uuid.UUID(int=rng.getrandbits(128)).hex[:21]
                model = rng.choice(models)
                write = rng.randint(0, 3000)
                read = cache
                cache += write
                out_final = rng.randint(20, 2000)
                copies = rng.choice([1, 2, 2, 3, 4])
                for c in range(copies):
                    last = c == copies - 1
                    usage = {"input_tokens": rng.randint(1, 10), "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
                             "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": write},
                             "output_tokens": out_final if last else rng.randint(1, 10), "service_tier": "standard", "inference_geo": "not_available"}
                    content = [{"type": "text", "text": filler(rng.choice([100, 400, 1500]))}] if c % 2 == 0 else \
                              [{"type": "tool_use", "id": "toolu_x", "name": "Bash", "input": {"command": filler(80)}}]
                    line(dict(env, type="assistant", message={"model": model, "id": mid, "type": "message", "role": "assistant", "content": content,
                                                          "stop_reason": "tool_use" if last else None, "stop_sequence": None, "usage": usage},
                              requestId=rid, uuid=str(uuid.UUID(int=rng.getrandbits(128))), timestamp=ts))
                if rng.random() < 0.05:
                    line(dict(env, type="system", subtype="turn_duration", durationMs=rng.randint(1000, 90000), timestamp=ts))
                if rng.random() < 0.03:
                    inner = {"type": "assistant", "timestamp": ts, "requestId": "req_sub" + uuid.UUID(int=rng.getrandbits(128)).hex[:20],
                             "message": {"model": "claude-haiku-4-5-20251001", "id": "msg_sub" + uuid.UUID(int=rng.getrandbits(128)).hex[:20],
                                         "content": [{"type": "text", "text": filler(300)}], "stop_reason": None,
                                         "usage": {"input_tokens": 3, "cache_creation_input_tokens": 900, "cache_read_input_tokens": 4000, "output_tokens": 5}}}
                    line(dict(env, type="progress", data={"message": inner, "type": "agent_progress", "agentId": "a1"}, timestamp=ts))
        total += written
        f_index += 1
    print("wrote %d files, %.1f MB under %s" % (f_index, total / 1048576, out))

main()
