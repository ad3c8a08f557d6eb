#!/usr/bin/env bash
# Import benchmark: the same generated mbox imported by `tidemark import`
# and by Dovecot's `doveadm import` (into a Maildir), same machine, same run.
#
#   bench/import.sh                  # 10,000 messages, 3 runs each
#   COUNT=2000 REPS=1 bench/import.sh
#
# Dovecot runs as `nobody` with mail_fsync=optimized (its default) and
# =always; tidemark with its only mode (every batch committed with fsync).
# Each run imports into a fresh, empty target. Writes
# bench/results/${OUT:-import.json} (one JSON object per run) and prints
# medians. Needs root (doveadm's files are chowned to nobody).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
COUNT=${COUNT:-10000}
REPS=${REPS:-3}
OUT=${OUT:-import.json}
TMP=$(mktemp -d /tmp/tidemark-import-bench.XXXXXX)
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

cd "$ROOT"
cargo build --release -q -p tidemark
TM="$ROOT/target/release/tidemark"

# A reproducible mbox: COUNT messages, 10-120 body lines of 12 words.
python3 - "$COUNT" "$TMP/INBOX" <<'PY'
import random, sys
n, path = int(sys.argv[1]), sys.argv[2]
random.seed(5)
words = ("alpha budget review meeting project status report quarterly data server mail "
         "sync device client update release notes kernel patch").split()
with open(path, "w") as f:
    for i in range(n):
        body = "\n".join(" ".join(random.choice(words) for _ in range(12))
                         for _ in range(random.randint(10, 120)))
        f.write(f"From sender{i % 50}@example.net Mon Nov  2 10:{i % 60:02d}:00 2026\n"
                f"From: Sender {i} <sender{i % 50}@example.net>\nTo: bench@example.org\n"
                f"Subject: message {i}\nDate: Mon, 2 Nov 2026 10:{i % 60:02d}:00 +0000\n"
                f"Message-ID: <m{i}@example.net>\n\n{body}\n\n")
PY
BYTES=$(stat -c %s "$TMP/INBOX")
log "mbox: $COUNT messages, $BYTES bytes"
RESULTS="$TMP/results.jsonl"
: >"$RESULTS"

row() { # server rep seconds
    echo "{\"bench\":\"import\",\"server\":\"$1\",\"rep\":$2,\"messages\":$COUNT,\"bytes\":$BYTES,\"elapsed_s\":$3}" | tee -a "$RESULTS"
}
secs() { python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 3))" "$@"; }

for rep in $(seq 1 "$REPS"); do
    for fsync in optimized always; do
        d="$TMP/dv-$fsync-$rep"
        mkdir -p "$d/home" "$d/src"
        cp "$TMP/INBOX" "$d/src/INBOX"
        chmod 755 "$d"
        chown -R 65534:65534 "$d"
        printf 'base_dir = %s/run\nstate_dir = %s/state\nlog_path = %s/log\nssl = no\nfirst_valid_uid = 65534\nfirst_valid_gid = 65534\nmail_uid = 65534\nmail_gid = 65534\nmail_location = maildir:%s/mail\nmail_fsync = %s\n' \
            "$d" "$d" "$d" "$d" "$fsync" >"$d/dovecot.conf"
        sync
        t0=$(date +%s.%N)
        HOME="$d/home" USER=nobody timeout 600 doveadm -c "$d/dovecot.conf" import -s "mbox:$d/src:INBOX=$d/src/INBOX" "" all
        t1=$(date +%s.%N)
        n=$(find "$d/mail/cur" "$d/mail/new" -type f | wc -l)
        [ "$n" -eq "$COUNT" ] || { log "doveadm imported $n of $COUNT"; exit 1; }
        label=dovecot; [ "$fsync" = optimized ] || label="dovecot-fsync-$fsync"
        row "$label" "$rep" "$(secs "$t0" "$t1")"
        rm -rf "$d"
    done
    d="$TMP/tm-$rep"
    echo benchpass | "$TM" user add bench --data-dir "$d" --password-stdin >/dev/null
    sync
    t0=$(date +%s.%N)
    timeout 600 "$TM" import --user bench --data-dir "$d" "$TMP/INBOX" >"$d.out" 2>&1
    t1=$(date +%s.%N)
    grep -q "imported $COUNT messages" "$d.out" || { cat "$d.out"; exit 1; }
    row tidemark "$rep" "$(secs "$t0" "$t1")"
    rm -rf "$d"
done

mkdir -p "$ROOT/bench/results"
python3 - "$RESULTS" "$ROOT/bench/results/$OUT" "$COUNT" <<'PY'
import json, statistics, sys, subprocess
rows = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[3])
med = {}
for s in dict.fromkeys(r["server"] for r in rows):
    med[s] = statistics.median(r["elapsed_s"] for r in rows if r["server"] == s)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
json.dump({"meta": {"messages": n, "commit": commit}, "median_s": med, "raw": rows}, open(sys.argv[2], "w"), indent=2)
print("\n| importer | median s | messages/s | tidemark / this |\n|---|---|---|---|")
for s, v in med.items():
    print(f"| {s} | {v:.2f} | {n / v:,.0f} | {med['tidemark'] / v:.2f}x |")
PY
