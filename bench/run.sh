#!/usr/bin/env bash
# Side-by-side IMAP benchmark: tidemark vs Dovecot, same machine, same run.
#
#   bench/run.sh                 # full run (100,000-message mailbox)
#   COUNT=10000 bench/run.sh     # quicker run
#
# Environment knobs (defaults in brackets):
#   COUNT [100000]          messages in the big mailbox (populate)
#   APPEND_COUNT [2000]     messages per append test (1 and CLIENTS clients)
#   CLIENTS [20]            concurrent clients in the second append test
#   REPS [10]               timed repetitions for select / fetch-flags (+1 warm-up)
#   SERVERS ["dovecot tidemark"]   which servers to run (in this order)
#   DOVECOT_FSYNC ["optimized always"]  Dovecot mail_fsync values to run:
#                                  optimized (its default) and/or always
#   DOVECOT_FORMAT [maildir]       Dovecot mailbox formats to run: maildir and/or mdbox
#   SUITES ["core mime"]    core = populate/select/fetch-flags/append;
#                           mime = FETCH 1:1000 (ENVELOPE BODYSTRUCTURE),
#                           FETCH 1:1000 (BODY.PEEK[HEADER.FIELDS (From Subject Date)]),
#                           FETCH of part 2 (a 10 MiB attachment), peak memory
#                           search = on a COUNT-message mailbox: SEARCH TEXT/BODY of a
#                           rare string, BODY of common words, FROM, SORT (DATE),
#                           THREAD REFERENCES; and APPEND with the text index off
#                           (tidemark only, label tidemark-noindex)
#                           sync = QRESYNC reconnect after 10 changes on a 10,000- and a
#                           SYNC_BIG-message mailbox, APPEND -> EXISTS latency on an idling
#                           connection, memory of N connections in IDLE (N in TM_IDLE_CONNS /
#                           DC_IDLE_CONNS); then QRESYNC reconnects again on a tidemark
#                           whose accounts close with their last session (tidemark-cold)
#                           lmtp = LMTP deliveries, 5 recipients each, from 1 and 10
#                           concurrent sessions (LMTP_COUNT1 / LMTP_COUNT10 messages);
#                           Dovecot runs its LMTP service (dovecot-lmtpd) on the same store
#   LMTP_COUNT1 [300], LMTP_COUNT10 [1500]  messages in the LMTP runs
#   SEARCH_REPS [3]         timed repetitions in the search suite (+1 warm-up)
#   SYNC_BIG [100000]       messages in the sync suite's big mailbox
#   TM_IDLE_CONNS ["1000 10000"], DC_IDLE_CONNS ["1000"]  IDLE connection counts
#                           (Dovecot runs one process per connection)
#   OUT [latest.json]       results file under bench/results/
#   KEEP [0]                1 = keep the temp dir (data, logs) afterwards
#
# Only loopback addresses are used. Writes bench/results/latest.json and
# prints a Markdown table. Needs root only to apt-get install dovecot-imapd
# and to create the unprivileged 'dovebench' user Dovecot stores mail as.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
COUNT=${COUNT:-100000}
APPEND_COUNT=${APPEND_COUNT:-2000}
CLIENTS=${CLIENTS:-20}
REPS=${REPS:-10}
SERVERS=${SERVERS:-"dovecot tidemark"}
DOVECOT_FSYNC=${DOVECOT_FSYNC:-"optimized always"}
DOVECOT_FORMAT=${DOVECOT_FORMAT:-maildir}
KEEP=${KEEP:-0}
SEARCH_REPS=${SEARCH_REPS:-3}
SYNC_BIG=${SYNC_BIG:-100000}
LMTP_COUNT1=${LMTP_COUNT1:-300}
LMTP_COUNT10=${LMTP_COUNT10:-1500}
LMTP_USERS="u1 u2 u3 u4 u5"
TM_IDLE_CONNS=${TM_IDLE_CONNS:-"1000 10000"}
DC_IDLE_CONNS=${DC_IDLE_CONNS:-"1000"}
# Many IDLE connections need file descriptors on both ends.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
SUITES=${SUITES:-"core mime"}
BENCH_USER=bench
BENCH_PASS=benchpass
BIG=Big
TIMEOUT=${TIMEOUT:-1500}   # per imap-bench invocation, seconds

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

TMP=$(mktemp -d /tmp/tidemark-bench.XXXXXX)
chmod 755 "$TMP"
RESULTS="$TMP/results.jsonl"
: >"$RESULTS"
PIDS=()

cleanup() {
    touch "$TMP/stop-sampler"
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null || true
    done
    sleep 0.5
    if [ "$KEEP" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() { # host:port, up to 30 s
    local i
    for i in $(seq 1 300); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1).close()" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    log "port $1 did not open"; return 1
}

# ---- memory sampler: peak of summed PSS (and max single-process VmHWM) over a
# process and its direct children, sampled every 0.5 s until told to stop.
sample_mem() { # pid outfile
    local pid=$1 out=$2 peak=0 hwm=0 i p s h
    for i in $(seq 1 7200); do   # bounded: at most 1 hour
        [ -e "$TMP/stop-sampler" ] && break
        [ -d "/proc/$pid" ] || break
        s=0
        for p in $pid $(pgrep -P "$pid" || true); do
            v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
            s=$((s + ${v:-0}))
            h=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
            [ "${h:-0}" -gt "$hwm" ] && hwm=$h
        done
        [ "$s" -gt "$peak" ] && peak=$s
        echo "$peak $hwm" >"$out"
        sleep 0.5
    done
}

# ---- build -----------------------------------------------------------------
cd "$ROOT"
log "building tidemark and imap-bench (release)"
if cargo metadata --no-deps --format-version 1 2>/dev/null | grep -q '"name":"tidemark-bench"'; then
    cargo build --release -q -p tidemark-bench
    BENCH_BIN="$ROOT/target/release/imap-bench"
else
    # crates/bench not yet a workspace member: build it standalone.
    cargo build --release -q --manifest-path crates/bench/Cargo.toml --target-dir "$ROOT/target/bench-standalone"
    BENCH_BIN="$ROOT/target/bench-standalone/release/imap-bench"
fi
case " $SERVERS " in *" tidemark "*) cargo build --release -q -p tidemark ;; esac
TIDEMARK_BIN="$ROOT/target/release/tidemark"

bench() { # label addr subcommand args...
    local label=$1 addr=$2 sub=$3; shift 3
    "$BENCH_BIN" --timeout "$TIMEOUT" "$sub" --addr "$addr" --user "$BENCH_USER" --pass "$BENCH_PASS" --label "$label" "$@" | tee -a "$RESULTS"
}

# The MIME suite: structure items over 1,000 varied messages and one part of
# a 10 MiB attachment, with the peak memory of the suite alone.
run_mime_suite() { # label addr pid
    local label=$1 addr=$2 pid=$3
    rm -f "$TMP/stop-sampler"
    sample_mem "$pid" "$TMP/mime-mem-$label" &
    local sampler=$!
    log "$label: MIME suite"
    bench "$label" "$addr" populate --mailbox Mime --count 1000 --size-mix --seed 7
    bench "$label" "$addr" fetch --mailbox Mime --name fetch-structure --reps "$REPS" \
        --command "FETCH 1:1000 (ENVELOPE BODYSTRUCTURE)"
    bench "$label" "$addr" fetch --mailbox Mime --name fetch-header-fields --reps "$REPS" \
        --command "FETCH 1:1000 (BODY.PEEK[HEADER.FIELDS (From Subject Date)])"
    bench "$label" "$addr" append-big --mailbox Big10 --size-mb 10
    bench "$label" "$addr" fetch --mailbox Big10 --name fetch-part-10mb --reps "$REPS" \
        --command "FETCH 1 (BODY.PEEK[2])"
    sleep 1
    touch "$TMP/stop-sampler"
    wait "$sampler" || true
    local peak hwm
    read -r peak hwm <"$TMP/mime-mem-$label" || { peak=0; hwm=0; }
    echo "{\"bench\":\"mime-resources\",\"server\":\"$label\",\"peak_pss_sum_kb\":$peak,\"max_process_vmhwm_kb\":$hwm}" | tee -a "$RESULTS"
}

# tidemark acknowledges an APPEND before its text is in the FTS index (the
# indexer thread catches up; searches read the queued docs meanwhile). So
# the acknowledged rate is not the whole cost: this records how long the
# index took to catch up after a run ("index-catchup" rows), polling the
# account database read-only (bounded: 10 minutes).
index_catchup() { # label after datadir
    [ "$1" = tidemark ] || return 0
    python3 - "$1" "$2" "$3/store/accounts/1.db" <<'PY' | tee -a "$RESULTS"
import json, os, sqlite3, sys, time
label, after, db = sys.argv[1:4]
idx = db[:-3] + ".search.db"
t0 = time.time()
left = -1
for _ in range(60000):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    c.execute("ATTACH DATABASE ? AS idx", (f"file:{idx}?mode=ro",))
    left = c.execute("SELECT count(*) FROM search_pending WHERE seq > "
                     "(SELECT value FROM idx.search_state WHERE key = 'pending')").fetchone()[0]
    c.close()
    if left == 0:
        break
    time.sleep(0.01)
print(json.dumps({"bench": "index-catchup", "server": label, "after": after,
                  "seconds": round(time.time() - t0, 3), "left": left}))
PY
}

# The search suite: a COUNT-message mailbox (messages carry a unique body
# token "tok<index>x"), rare and common text, a header key, SORT and THREAD.
run_search_suite() { # label addr datadir
    local label=$1 addr=$2 dir=$3
    # APPEND first, on a fresh server (no indexing backlog from populate).
    log "$label: search suite, append 1 / $CLIENTS clients"
    bench "$label" "$addr" append --mailbox SAppend1 --clients 1 --count "$APPEND_COUNT"
    index_catchup "$label" append1 "$dir"
    bench "$label" "$addr" append --mailbox "SAppend$CLIENTS" --clients "$CLIENTS" --count "$APPEND_COUNT"
    index_catchup "$label" "append$CLIENTS" "$dir"
    log "$label: search suite, populate $COUNT messages"
    bench "$label" "$addr" populate --mailbox Search --count "$COUNT" --size-mix --seed 11
    index_catchup "$label" populate "$dir"
    local rare1=$((COUNT / 2)) rare2=$((COUNT / 3))
    s() { # name command
        bench "$label" "$addr" fetch --mailbox Search --name "$1" --reps "$SEARCH_REPS" --command "$2"
    }
    s search-text-rare "SEARCH TEXT tok${rare1}x"
    s search-body-rare "SEARCH BODY tok${rare2}x"
    s search-body-common "SEARCH BODY \"budget review\""
    s search-from "SEARCH FROM grace"
    s sort-date "SORT (DATE) UTF-8 ALL"
    s thread-references "THREAD REFERENCES UTF-8 ALL"
}

# Sum of PSS (KiB) of a process and all its descendants.
pss_tree() { # pid
    python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1]); kids = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d))
        except (OSError, IndexError, ValueError):
            pass
total, todo = 0, [root]
while todo:
    p = todo.pop(); todo.extend(kids.get(p, []))
    try:
        for line in open(f"/proc/{p}/smaps_rollup"):
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    except OSError:
        pass
print(total)
PY
}

# Memory of COUNT connections in IDLE: the server's PSS (with children)
# while they are held, minus before they were opened.
idle_memory() { # label addr pid count
    local label=$1 addr=$2 pid=$3 n=$4 base with out i
    out="$TMP/idle-$label-$n.json"
    base=$(pss_tree "$pid")
    "$BENCH_BIN" --timeout "$TIMEOUT" idle-conns --addr "$addr" --user "$BENCH_USER" --pass "$BENCH_PASS" \
        --label "$label" --count "$n" --hold-secs 12 >"$out" &
    local bpid=$!
    for i in $(seq 1 3000); do   # bounded: 10 minutes of setup
        grep -q idle-conns-ready "$out" 2>/dev/null && break
        kill -0 "$bpid" 2>/dev/null || break
        sleep 0.2
    done
    sleep 3
    with=0
    for i in 1 2 3; do
        local v; v=$(pss_tree "$pid"); [ "$v" -gt "$with" ] && with=$v; sleep 1
    done
    wait "$bpid" || log "$label: idle-conns $n failed"
    cat "$out" | tee -a "$RESULTS" >/dev/null
    echo "{\"bench\":\"idle-memory\",\"server\":\"$label\",\"connections\":$n,\"base_pss_kb\":$base,\"pss_kb\":$with,\"per_conn_kb\":$(( (with - base) / n ))}" | tee -a "$RESULTS"
}

# The sync suite (issue 5).
run_sync_suite() { # label addr pid
    local label=$1 addr=$2 pid=$3 n conns
    log "$label: sync suite"
    bench "$label" "$addr" populate --mailbox Sync10k --count 10000 --size-mix --seed 21
    bench "$label" "$addr" qresync --mailbox Sync10k
    bench "$label" "$addr" populate --mailbox SyncBig --count "$SYNC_BIG" --size-mix --seed 22
    bench "$label" "$addr" qresync --mailbox SyncBig
    bench "$label" "$addr" idle-latency --mailbox SyncLat
    case $label in tidemark*) conns=$TM_IDLE_CONNS ;; *) conns=$DC_IDLE_CONNS ;; esac
    for n in $conns; do idle_memory "$label" "$addr" "$pid" "$n"; done
}

# The LMTP suite: deliveries to 5 recipients from 1 and 10 sessions.
run_lmtp_suite() { # label lmtp-addr
    local label=$1 addr=$2
    log "$label: LMTP suite on $addr"
    "$BENCH_BIN" --timeout "$TIMEOUT" lmtp --addr "$addr" --label "$label" --sessions 1 \
        --count "$LMTP_COUNT1" --recipients 5 --rcpt-format 'u{}@bench.test' | tee -a "$RESULTS"
    "$BENCH_BIN" --timeout "$TIMEOUT" lmtp --addr "$addr" --label "$label" --sessions 10 \
        --count "$LMTP_COUNT10" --recipients 5 --rcpt-format 'u{}@bench.test' | tee -a "$RESULTS"
}

run_suite() { # label addr pid datadir
    local label=$1 addr=$2 pid=$3 dir=$4
    case " $SUITES " in *" lmtp "*) run_lmtp_suite "$label" "$LMTP_ADDR" ;; esac
    case " $SUITES " in *" search "*) run_search_suite "$label" "$addr" "$dir" ;; esac
    case " $SUITES " in *" sync "*) run_sync_suite "$label" "$addr" "$pid" ;; esac
    case " $SUITES " in *" mime "*) run_mime_suite "$label" "$addr" "$pid" ;; esac
    case " $SUITES " in *" core "*) ;; *) return 0 ;; esac
    rm -f "$TMP/stop-sampler"
    sample_mem "$pid" "$TMP/mem-$label" &
    local sampler=$!
    log "$label: populate $COUNT messages (size mix 1-20 KB)"
    bench "$label" "$addr" populate --mailbox "$BIG" --count "$COUNT" --size-mix
    log "$label: select / fetch-flags"
    bench "$label" "$addr" select --mailbox "$BIG" --reps "$REPS" --warmup 1
    bench "$label" "$addr" fetch-flags --mailbox "$BIG" --reps "$REPS" --warmup 1
    log "$label: append 1 client"
    bench "$label" "$addr" append --mailbox Append1 --clients 1 --count "$APPEND_COUNT"
    log "$label: append $CLIENTS clients"
    bench "$label" "$addr" append --mailbox "Append$CLIENTS" --clients "$CLIENTS" --count "$APPEND_COUNT"
    log "$label: append $CLIENTS clients, one mailbox each"
    bench "$label" "$addr" append --mailbox "Spread" --clients "$CLIENTS" --count "$APPEND_COUNT" --mailbox-per-client
    sleep 1
    touch "$TMP/stop-sampler"
    wait "$sampler" || true
    local peak hwm
    read -r peak hwm <"$TMP/mem-$label" || { peak=0; hwm=0; }
    local own_hwm
    own_hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    local du
    du=$(du -sb "$dir" | cut -f1)
    echo "{\"bench\":\"resources\",\"server\":\"$label\",\"peak_pss_sum_kb\":$peak,\"max_process_vmhwm_kb\":$hwm,\"main_process_vmhwm_kb\":${own_hwm:-0},\"disk_bytes\":$du}" | tee -a "$RESULTS"
}

# ---- Dovecot ---------------------------------------------------------------
start_dovecot() { # fsync-mode format -> sets DC_PID DC_ADDR DC_DIR
    local fsync=$1 format=$2
    if ! command -v dovecot >/dev/null || [ ! -x /usr/lib/dovecot/imap ] || [ ! -x /usr/lib/dovecot/lmtp ]; then
        log "installing dovecot-imapd dovecot-lmtpd"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dovecot-lmtpd >/dev/null
    fi
    id dovebench >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin dovebench
    local uid gid d port
    uid=$(id -u dovebench); gid=$(id -g dovebench)
    d="$TMP/dovecot-$format-$fsync"
    mkdir -p "$d/run" "$d/state" "$d/mail"
    chown dovebench:dovebench "$d/mail"
    port=$(free_port); lport=$(free_port)
    echo "$BENCH_USER:{PLAIN}$BENCH_PASS:$uid:$gid::$d/mail/$BENCH_USER::" >"$d/passwd"
    for u in $LMTP_USERS; do echo "$u:{PLAIN}$BENCH_PASS:$uid:$gid::$d/mail/$u::" >>"$d/passwd"; done
    chmod 644 "$d/passwd"
    cat >"$d/dovecot.conf" <<EOF
# Private benchmark instance; not the system service.
instance_name = dovebench-$format-$fsync
base_dir = $d/run
state_dir = $d/state
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
mail_location = $format:$d/mail/%u/$format
mail_uid = $uid
mail_gid = $gid
first_valid_uid = $uid
last_valid_uid = $uid
first_valid_gid = $gid
default_internal_user = dovecot
default_login_user = dovenull
# Durability: '$fsync' ('optimized' is Dovecot's default).
mail_fsync = $fsync
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $d/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%n $d/passwd
}
# LMTP (the lmtp suite): recipients u1..u5@bench.test, plain inet listener.
postmaster_address = postmaster@bench.test
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lport
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
protocol imap {
  # the 20-client append test logs in 20 times from 127.0.0.1, the sync
  # suite holds thousands of IDLE connections
  mail_max_userip_connections = 12000
}
# One imap process per connection (Dovecot's default design); room for the
# sync suite's IDLE connections.
default_process_limit = 12000
default_client_limit = 24000
service imap {
  process_limit = 12000
}
EOF
    dovecot -F -c "$d/dovecot.conf" >"$d/stdout.log" 2>&1 &
    DC_PID=$!
    PIDS+=("$DC_PID")
    wait_port "$port"
    DC_ADDR="127.0.0.1:$port"
    LMTP_ADDR="127.0.0.1:$lport"
    DC_DIR="$d/mail"
    log "dovecot $(dovecot --version) ($format, mail_fsync=$fsync) pid $DC_PID on $DC_ADDR"
}

stop_pid() { kill "$1" 2>/dev/null || true; for _ in $(seq 1 50); do [ -d "/proc/$1" ] || return 0; sleep 0.1; done; kill -9 "$1" 2>/dev/null || true; }

# ---- tidemark --------------------------------------------------------------
start_tidemark() { # [config-text] -> TM_PID TM_ADDR TM_DIR
    local d="$TMP/tidemark$RANDOM" p1 p2
    mkdir -p "$d"
    # The IDLE-memory test holds 10,000 sessions of one user.
    printf '%s\n\n[limits]\nmax_connections_per_account = 0\n' "${1:-}" >"$d/tidemark.toml"
    echo "$BENCH_PASS" | "$TIDEMARK_BIN" user add "$BENCH_USER" --data-dir "$d" --password-stdin >/dev/null
    for u in $LMTP_USERS; do echo "$BENCH_PASS" | "$TIDEMARK_BIN" user add "$u" --data-dir "$d" --password-stdin >/dev/null; done
    p1=$(free_port); p2=$(free_port); p3=$(free_port)
    "$TIDEMARK_BIN" serve --data-dir "$d" --imap "127.0.0.1:$p1" --imaps "127.0.0.1:$p2" --lmtp "127.0.0.1:$p3" >"$d.log" 2>&1 &
    TM_PID=$!
    PIDS+=("$TM_PID")
    wait_port "$p1"
    TM_ADDR="127.0.0.1:$p1"
    LMTP_ADDR="127.0.0.1:$p3"
    TM_DIR="$d"
    log "tidemark pid $TM_PID on $TM_ADDR (data $d)"
}

T0=$(date +%s)
for s in $SERVERS; do
    case $s in
    dovecot)
        for fmt in $DOVECOT_FORMAT; do
            for f in $DOVECOT_FSYNC; do
                start_dovecot "$f" "$fmt"
                # "dovecot" = Dovecot's defaults (maildir, mail_fsync=optimized):
                # the baseline of the ratio column.
                label=dovecot
                [ "$fmt" = maildir ] || label="$label-$fmt"
                [ "$f" = optimized ] || label="$label-fsync-$f"
                run_suite "$label" "$DC_ADDR" "$DC_PID" "$DC_DIR"
                stop_pid "$DC_PID"
            done
        done
        ;;
    tidemark)
        start_tidemark
        run_suite tidemark "$TM_ADDR" "$TM_PID" "$TM_DIR"
        stop_pid "$TM_PID"
        case " $SUITES " in *" search "*)
            # What indexing costs APPEND: the same appends with the index off.
            start_tidemark $'[search]\nindex = false'
            log "tidemark-noindex: append 1 client / $CLIENTS clients"
            bench tidemark-noindex "$TM_ADDR" append --mailbox SAppend1 --clients 1 --count "$APPEND_COUNT"
            bench tidemark-noindex "$TM_ADDR" append --mailbox "SAppend$CLIENTS" --clients "$CLIENTS" --count "$APPEND_COUNT"
            bench tidemark-noindex "$TM_ADDR" populate --mailbox Search --count "$COUNT" --size-mix --seed 11
            stop_pid "$TM_PID"
            ;;
        esac
        case " $SUITES " in *" sync "*)
            # QRESYNC reconnect to a closed account: no lingering, so every
            # reconnect opens the account and reads the sequence-map file.
            start_tidemark $'[store]\naccount_linger = 0'
            log "tidemark-cold: QRESYNC reconnect with accounts closed between sessions"
            bench tidemark-cold "$TM_ADDR" populate --mailbox Sync10k --count 10000 --size-mix --seed 21
            bench tidemark-cold "$TM_ADDR" qresync --mailbox Sync10k
            bench tidemark-cold "$TM_ADDR" populate --mailbox SyncBig --count "$SYNC_BIG" --size-mix --seed 22
            bench tidemark-cold "$TM_ADDR" qresync --mailbox SyncBig
            stop_pid "$TM_PID"
            ;;
        esac
        ;;
    *) log "unknown server $s"; exit 1 ;;
    esac
done
T1=$(date +%s)

# ---- report ------------------------------------------------------------------
mkdir -p "$ROOT/bench/results"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo uncommitted)
DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | head -1)
python3 "$ROOT/bench/report.py" "$RESULTS" "$ROOT/bench/results/${OUT:-latest.json}" \
    --meta count="$COUNT" append_count="$APPEND_COUNT" clients="$CLIENTS" reps="$REPS" \
    dovecot_version="$(dovecot --version 2>/dev/null || echo n/a)" \
    tidemark_commit="$COMMIT${DIRTY:+ (dirty tree)}" \
    nproc="$(nproc)" cpu="$(lscpu | awk -F: '/Model name/ {gsub(/^ +/,"",$2); print $2; exit}')" \
    mem="$(free -h | awk '/Mem:/ {print $2}')" kernel="$(uname -r)" \
    wall_s="$((T1 - T0))" date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    dovecot_fsync="$DOVECOT_FSYNC" dovecot_format="$DOVECOT_FORMAT" \
    tidemark_durability="SQLite WAL, synchronous=FULL (fsync on every commit)"
log "done in $((T1 - T0)) s; results in bench/results/latest.json"
