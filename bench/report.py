#!/usr/bin/env python3
"""Turn imap-bench JSON lines into bench/results/latest.json and a Markdown table.

usage: report.py RESULTS.jsonl OUT.json [--meta key=value ...]

Ratios are always tidemark / dovecot. For times and memory lower is better
(ratio < 1 means tidemark is faster / smaller); for throughput higher is
better (ratio > 1 means tidemark is faster).
"""
import json
import sys


def main():
    args = sys.argv[1:]
    src, out = args[0], args[1]
    meta = {}
    if "--meta" in args:
        for kv in args[args.index("--meta") + 1:]:
            k, _, v = kv.partition("=")
            meta[k] = v
    rows = [json.loads(l) for l in open(src) if l.strip().startswith("{")]

    def get(server, bench, field, **match):
        for r in rows:
            if r.get("server") == server and r.get("bench") == bench and all(r.get(k) == v for k, v in match.items()):
                return r.get(field)
        return None

    servers = []
    for r in rows:
        if r["server"] not in servers:
            servers.append(r["server"])
    base = "dovecot" if "dovecot" in servers else next((s for s in servers if s.startswith("dovecot")), None)
    clients = int(meta.get("clients", 20))
    count = meta.get("count", "?")
    # (label, bench, field, match, unit, better, scale)
    metrics = [
        (f"populate {count} msgs (MULTIAPPEND x100, pipelined)", "populate", "elapsed_s", {"mailbox": "Big"}, "s", "lower", 1),
        ("populate throughput", "populate", "msgs_per_s", {"mailbox": "Big"}, "msg/s", "higher", 1),
        ("SELECT median", "select", "median_ms", {}, "ms", "lower", 1),
        ("SELECT p90", "select", "p90_ms", {}, "ms", "lower", 1),
        ("UID FETCH 1:* (UID FLAGS) median", "fetch-flags", "median_ms", {}, "ms", "lower", 1),
        ("UID FETCH 1:* (UID FLAGS) p90", "fetch-flags", "p90_ms", {}, "ms", "lower", 1),
        ("APPEND 1 client", "append", "msgs_per_s", {"clients": 1}, "msg/s", "higher", 1),
        ("APPEND 1 client, latency median", "append", "lat_median_ms", {"clients": 1}, "ms", "lower", 1),
        (f"APPEND {clients} clients, same mailbox", "append", "msgs_per_s", {"clients": clients, "mailboxes": 1}, "msg/s", "higher", 1),
        (f"APPEND {clients} clients, latency p90", "append", "lat_p90_ms", {"clients": clients, "mailboxes": 1}, "ms", "lower", 1),
        (f"APPEND {clients} clients, one mailbox each", "append", "msgs_per_s", {"clients": clients, "mailboxes": clients}, "msg/s", "higher", 1),
        (f"APPEND {clients} clients, one mailbox each, latency p90", "append", "lat_p90_ms", {"clients": clients, "mailboxes": clients}, "ms", "lower", 1),
        ("peak memory (sum of PSS, all server processes)", "resources", "peak_pss_sum_kb", {}, "MiB", "lower", 1 / 1024),
        ("largest single-process VmHWM", "resources", "max_process_vmhwm_kb", {}, "MiB", "lower", 1 / 1024),
        ("data on disk after the run", "resources", "disk_bytes", {}, "MiB", "lower", 1 / 1048576),
        ("FETCH 1:1000 (ENVELOPE BODYSTRUCTURE) median", "fetch-structure", "median_ms", {}, "ms", "lower", 1),
        ("FETCH 1:1000 (BODY.PEEK[HEADER.FIELDS (From Subject Date)]) median", "fetch-header-fields", "median_ms", {}, "ms", "lower", 1),
        ("FETCH 1 (BODY.PEEK[2]) of a 10 MiB attachment, median", "fetch-part-10mb", "median_ms", {}, "ms", "lower", 1),
        ("peak memory during the MIME suite (sum of PSS)", "mime-resources", "peak_pss_sum_kb", {}, "MiB", "lower", 1 / 1024),
    ]
    for n in sorted({r.get("sessions") for r in rows if r.get("bench") == "lmtp"}):
        rc = next(r.get("recipients") for r in rows if r.get("bench") == "lmtp")
        metrics += [
            (f"LMTP {n} session(s), {rc} recipients: messages/s", "lmtp", "msgs_per_s", {"sessions": n}, "msg/s", "higher", 1),
            (f"LMTP {n} session(s), {rc} recipients: deliveries/s", "lmtp", "deliveries_per_s", {"sessions": n}, "rcpt/s", "higher", 1),
            (f"LMTP {n} session(s): latency median (DATA sent to last 250)", "lmtp", "lat_median_ms", {"sessions": n}, "ms", "lower", 1),
            (f"LMTP {n} session(s): latency p90", "lmtp", "lat_p90_ms", {"sessions": n}, "ms", "lower", 1),
        ]
    # Rows no server produced (a suite that was not run) are left out.
    metrics = [m for m in metrics
               if any(r.get("bench") == m[1] and all(r.get(k) == v for k, v in m[3].items()) for r in rows)]
    others = [s for s in servers if s not in ("tidemark", base)]
    table = []
    for label, bench, field, match, unit, better, scale in metrics:
        row = {"metric": label, "unit": unit, "better": better}
        for s in servers:
            v = get(s, bench, field, **match)
            row[s] = None if v is None else v * scale
        t, d = row.get("tidemark"), row.get(base) if base else None
        row["ratio_tidemark_over_dovecot"] = (t / d) if (t is not None and d) else None
        table.append(row)

    def fmt(v):
        if v is None:
            return "n/a"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.2f}"

    cols = (["tidemark"] if "tidemark" in servers else []) + ([base] if base else []) + others
    head = ["metric", "unit", "better"] + cols + ["ratio tidemark/" + (base or "dovecot")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table:
        ratio = r["ratio_tidemark_over_dovecot"]
        cells = [r["metric"], r["unit"], r["better"]] + [fmt(r.get(c)) for c in cols] + ["n/a" if ratio is None else f"{ratio:.2f}×"]
        lines.append("| " + " | ".join(cells) + " |")
    md = "\n".join(lines)
    json.dump({"meta": meta, "ratio_direction": "tidemark / dovecot for every metric; see 'better' for which direction wins",
               "table": table, "raw": rows}, open(out, "w"), indent=2)
    print()
    print(md)


if __name__ == "__main__":
    main()
