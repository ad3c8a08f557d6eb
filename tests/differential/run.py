#!/usr/bin/env python3
"""Differential test of SEARCH, SORT and THREAD: tidemark against Dovecot.

Loads the mailbox made by gen.py into a private Dovecot instance (Debian's
dovecot-imapd, maildir, no FTS: substring-exact search) and into tidemark,
with the same APPEND flags and INTERNALDATEs in the same order (so sequence
numbers and UIDs agree) and the same STOREs afterwards; then runs every
generated query on both, compares the answers (SEARCH as sets, SORT as
sequences, THREAD as trees) and prints each disagreement.

Each disagreement is explained down to leaf keys: every leaf of the criteria
is run alone on both servers over the differing messages, giving (leaf,
message, which server matches). A disagreement is explained when every
differing message is covered by an entry of deviations.json (a documented
Dovecot deviation, with the RFC text that decides it) or of UNDEFINED below
(input the RFCs leave undefined, or a representation they leave to the
server), judged on the leaf and on facts the generator recorded about the
message. SORT orders and THREAD trees are compared again without the
messages whose keys rest on such input (TAINTED) when they differ. Any other
disagreement makes the run fail, and is printed with the leaves that cause it.

    run.py [--tidemark-bin PATH | --tidemark-addr HOST:PORT --user U --password P]
           [--only search,sort,thread] [--seed N] [--messages N] [--keep] [-v]

SORT and THREAD are compared only when tidemark advertises them (SORT,
SORT=DISPLAY for DISPLAYFROM/DISPLAYTO, THREAD=<algorithm>); otherwise they
are reported as "not yet". The last line is a summary; "differential: PASS"
means no unexplained disagreement.

Only loopback addresses are used; every socket operation has a timeout and
the whole run a time budget (--budget seconds).
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import gen  # noqa: E402

SOCK_TIMEOUT = 60.0
USER, PASSWORD = "diff", "diffpass"


class Timeout(Exception):
    pass


def log(*a):
    print("[%6.1fs]" % (time.monotonic() - T0), *a, flush=True)


T0 = time.monotonic()


# ---------------------------------------------------------------------------
# A minimal IMAP client: raw socket, literals, tagged completion.

class Imap:
    def __init__(self, host, port, name):
        self.name = name
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.settimeout(SOCK_TIMEOUT)
        self.buf = b""
        self.n = 0
        self.caps = set()
        greeting = self.line()
        if not greeting.startswith(b"* OK"):
            raise RuntimeError("%s: bad greeting %r" % (name, greeting))

    def _fill(self):
        try:
            d = self.sock.recv(1 << 16)
        except socket.timeout:
            raise Timeout("%s: no answer within %.0f s" % (self.name, SOCK_TIMEOUT))
        if not d:
            raise RuntimeError("%s: connection closed" % self.name)
        self.buf += d

    def line(self):
        """One response line, with literals inlined."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            i = self.buf.index(b"\r\n")
            ln, self.buf = self.buf[:i], self.buf[i + 2:]
            out += ln
            m = re.search(rb"\{(\d+)\}$", ln)
            if not m:
                return out
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            out += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]

    def send(self, data):
        self.sock.sendall(data)

    def tag(self):
        self.n += 1
        return "a%d" % self.n

    def command(self, parts):
        """Sends a command made of byte chunks; a chunk that is a
        ("literal", bytes) tuple is sent as a synchronising literal.
        Returns (status, untagged lines, tagged line)."""
        tag = self.tag()
        pending = tag.encode() + b" "
        for p in parts:
            if isinstance(p, tuple):
                data = p[1]
                self.send(pending + b"{%d}\r\n" % len(data))
                pending = b""
                while True:
                    ln = self.line()
                    if ln.startswith(b"+"):
                        break
                    if ln.startswith(tag.encode() + b" "):
                        return self._status(ln), [], ln
                self.send(data)
            else:
                pending += p
        self.send(pending + b"\r\n")
        return self.collect(tag)

    def collect(self, tag):
        untagged = []
        t = tag.encode() + b" "
        while True:
            ln = self.line()
            if ln.startswith(t):
                return self._status(ln), untagged, ln
            untagged.append(ln)

    @staticmethod
    def _status(ln):
        return ln.split(b" ", 2)[1].decode("ascii", "replace").upper()

    def simple(self, text):
        st, un, tl = self.command([text.encode()])
        if st != "OK":
            raise RuntimeError("%s: %s -> %r" % (self.name, text, tl))
        return un

    def login(self, user, password):
        self.simple('LOGIN "%s" "%s"' % (user, password))
        caps = b" ".join(self.simple("CAPABILITY"))
        self.caps = {c.upper() for c in caps.decode("ascii", "replace").split()[2:]}

    def close(self):
        try:
            self.send(b"zz LOGOUT\r\n")
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------
# Servers

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nothing listens on port %d after %d s" % (port, seconds))


def die_with_parent():
    """preexec_fn: the child gets SIGTERM when this script dies (even by
    SIGKILL, e.g. a test timeout), so no server outlives the run (Linux)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_dovecot(tmp):
    """A private Dovecot instance on loopback, run as the current user, with
    passwd-file passdb/userdb and maildir (no FTS plugin: substring search
    over the decoded message, as RFC 9051 describes)."""
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(dovecot):
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
    d = os.path.join(tmp, "dovecot")
    for sub in ("run", "state", "mail"):
        os.makedirs(os.path.join(d, sub))
    import pwd
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        # Dovecot refuses UID 0 for mail access: as root, the mail is stored
        # as "nobody"; Debian's dovecot-core creates the two service users.
        nobody = pwd.getpwnam("nobody")
        uid, gid = nobody.pw_uid, nobody.pw_gid
        os.chown(os.path.join(d, "mail"), uid, gid)
        internal, login = "dovecot", "dovenull"
        for u in (internal, login):
            pwd.getpwnam(u)
    else:
        internal = login = pwd.getpwuid(uid).pw_name
    import grp
    internal_group = grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name
    port = free_port()
    with open(os.path.join(d, "passwd"), "w") as f:
        f.write("%s:{PLAIN}%s:%d:%d::%s/mail/%s::\n" % (USER, PASSWORD, uid, gid, d, USER))
    conf = """# Private instance for the differential test; not the system service.
instance_name = tidemark-diff-%(port)d
base_dir = %(d)s/run
state_dir = %(d)s/state
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = %(d)s/dovecot.log
info_log_path = %(d)s/dovecot.log
mail_location = maildir:%(d)s/mail/%%u/Maildir
mail_uid = %(uid)d
mail_gid = %(gid)d
first_valid_uid = %(uid)d
last_valid_uid = %(uid)d
first_valid_gid = %(gid)d
default_internal_user = %(internal)s
default_internal_group = %(internal_group)s
default_login_user = %(login)s
mail_fsync = never
mail_plugins =
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %(d)s/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%%u %(d)s/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %(port)d
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
""" % dict(d=d, uid=uid, gid=gid, port=port, internal=internal, login=login,
         internal_group=internal_group)
    if os.getuid() != 0:
        # an unprivileged master cannot chroot its helper processes
        conf += "service anvil {\n  chroot =\n}\nservice imap-login {\n  chroot =\n}\n"
    with open(os.path.join(d, "dovecot.conf"), "w") as f:
        f.write(conf)
    env = dict(os.environ, TZ="UTC")
    out = open(os.path.join(d, "stdout.log"), "wb")
    p = subprocess.Popen([dovecot, "-F", "-c", os.path.join(d, "dovecot.conf")],
                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, preexec_fn=die_with_parent)
    try:
        wait_port(port)
    except RuntimeError:
        p.kill()
        p.wait(10)
        raise RuntimeError("dovecot did not start:\n" + open(os.path.join(d, "stdout.log")).read()
                           + (open(os.path.join(d, "dovecot.log")).read()
                              if os.path.exists(os.path.join(d, "dovecot.log")) else ""))
    version = subprocess.run([dovecot, "--version"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    return p, port, version, d


def start_tidemark(tmp, binary):
    d = os.path.join(tmp, "tidemark")
    os.makedirs(d)
    r = subprocess.run([binary, "user", "add", USER, "--data-dir", d, "--password-stdin"],
                       input=PASSWORD + "\n", capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("tidemark user add failed: %s" % (r.stdout + r.stderr))
    env = dict(os.environ, TIDEMARK_LOG="info")
    p = subprocess.Popen([binary, "serve", "--data-dir", d, "--imap", "127.0.0.1:0",
                          "--imaps", "127.0.0.1:0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=env, preexec_fn=die_with_parent)
    found = []
    ev = threading.Event()
    logf = open(os.path.join(tmp, "tidemark.log"), "wb")

    def reader():
        for ln in p.stderr:
            logf.write(ln)
            logf.flush()
            m = re.search(rb"listening on (\S+) \(imap\)", ln)
            if m and not found:
                found.append(m.group(1).decode())
                ev.set()

    threading.Thread(target=reader, daemon=True).start()
    if not ev.wait(30):
        p.kill()
        p.wait(10)
        raise RuntimeError("tidemark did not report its imap listener within 30 s")
    host, port = found[0].rsplit(":", 1)
    wait_port(int(port))
    return p, int(port)


def stop(p):
    if p is None or p.poll() is not None:
        return
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(10)


# ---------------------------------------------------------------------------
# Loading

def load(client, msgs):
    """APPENDs every message (flags, internal date) in order, pipelined in
    batches with LITERAL+ when the server has it, then applies the STOREs.
    Returns the number of messages in INBOX."""
    lplus = "LITERAL+" in client.caps
    batch = 40 if lplus else 1
    i = 0
    while i < len(msgs):
        tags = []
        for m in msgs[i:i + batch]:
            tag = client.tag()
            head = ("%s APPEND INBOX (%s) \"%s\" " % (tag, " ".join(m["flags"]), m["internaldate"])).encode()
            if lplus:
                client.send(head + b"{%d+}\r\n" % len(m["raw"]) + m["raw"] + b"\r\n")
            else:
                client.send(head + b"{%d}\r\n" % len(m["raw"]))
                ln = client.line()
                if not ln.startswith(b"+"):
                    raise RuntimeError("%s: APPEND refused: %r" % (client.name, ln))
                client.send(m["raw"] + b"\r\n")
            tags.append(tag)
        for tag in tags:
            st, _, tl = client.collect(tag)
            if st != "OK":
                raise RuntimeError("%s: APPEND failed: %r" % (client.name, tl))
        i += batch
    un = client.simple("SELECT INBOX")
    exists = [int(l.split()[1]) for l in un if l.endswith(b" EXISTS")]
    # STORE of the remaining flags, grouped by flag, by sequence number
    by_flag = {}
    for n, m in enumerate(msgs, 1):
        for f in m["store"]:
            by_flag.setdefault(f, []).append(n)
    for f, ns in sorted(by_flag.items()):
        for k in range(0, len(ns), 200):
            client.simple("STORE %s +FLAGS.SILENT (%s)" % (",".join(map(str, ns[k:k + 200])), f))
    return exists[-1] if exists else 0


def snapshot(client):
    """{seq: (uid, flags, size, internal date as a timestamp, as written)}."""
    un = client.simple("FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)")
    out = {}
    for ln in un:
        s = ln.decode("utf-8", "replace")
        m = re.match(r"\* (\d+) FETCH \((.*)\)$", s)
        if not m:
            continue
        body = m.group(2)
        uid = int(re.search(r"UID (\d+)", body).group(1))
        flags = tuple(sorted(f.lower() for f in re.search(r"FLAGS \(([^)]*)\)", body).group(1).split()
                             if f.lower() != "\\recent"))
        size = int(re.search(r"RFC822\.SIZE (\d+)", body).group(1))
        idate = re.search(r'INTERNALDATE "([^"]+)"', body).group(1)
        out[int(m.group(1))] = (uid, flags, size, idate_ts(idate), idate)
    return out


def idate_ts(s):
    import datetime
    return int(datetime.datetime.strptime(s.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp())


# ---------------------------------------------------------------------------
# Queries

def build(kind, q):
    """The command chunks for query `q` (see gen.render for the markers)."""
    parts = []
    non_ascii = False
    i = 0
    text = ""
    while i < len(q):
        if q[i] == "\x00":
            j = q.index("\x01", i)
            s = q[i + 1:j]
            if s.isascii() and not any(c in '"\\' or ord(c) < 0x20 for c in s):
                text += '"%s"' % s
            else:
                non_ascii = True
                parts.append(text.encode())
                parts.append(("literal", s.encode("utf-8")))
                text = ""
            i = j + 1
        else:
            text += q[i]
            i += 1
    parts.append(text.encode())
    if kind == "search":
        prefix = "SEARCH CHARSET UTF-8 " if non_ascii else "SEARCH "
    elif kind == "sort":
        prefix = "SORT "
    else:
        prefix = "THREAD "
    parts[0] = prefix.encode() + parts[0]
    return parts


def parse_numbers(untagged, word):
    out = []
    key = b"* " + word.encode() + b" "
    for ln in untagged:
        if ln == b"* " + word.encode():
            continue
        if ln.startswith(key):
            out.extend(int(x) for x in ln[len(key):].split() if x.isdigit())
    return out


def parse_thread(untagged):
    """The forest of `* THREAD` as a tuple of (id or None, children) trees."""
    text = b" ".join(ln[len(b"* THREAD"):] for ln in untagged if ln.startswith(b"* THREAD"))
    toks = re.findall(rb"\(|\)|\d+", text)
    pos = 0

    def parse_list():
        # after "(": numbers form a chain, sublists are children of the last
        nonlocal pos
        chain = []
        subs = []
        while pos < len(toks):
            t = toks[pos]
            pos += 1
            if t == b")":
                break
            if t == b"(":
                subs.append(parse_list())
            else:
                if subs:
                    raise ValueError("number after a sublist")
                chain.append(int(t))
        # a chain a -> b -> c whose last element has the sublists as children
        if not chain:
            return (None, tuple(subs))
        node = (chain[-1], tuple(subs))
        for x in reversed(chain[:-1]):
            node = (x, (node,))
        return node

    forest = []
    while pos < len(toks):
        t = toks[pos]
        pos += 1
        if t == b"(":
            forest.append(parse_list())
    return tuple(normalize_tree(t) for t in forest)


def normalize_tree(node):
    nid, kids = node
    kids = tuple(normalize_tree(k) for k in kids)
    # a dummy with a single child is the child itself (RFC 5256 says such a
    # dummy is not output; tolerate either form)
    if nid is None and len(kids) == 1:
        return kids[0]
    return (nid, kids)


def render_tree(node):
    nid, kids = node
    s = "?" if nid is None else str(nid)
    if len(kids) == 1:
        return s + " " + render_tree(kids[0])
    if kids:
        return s + " " + "".join("(" + render_tree(k) + ")" for k in kids)
    return s


def short(xs, n=20):
    xs = list(xs)
    return " ".join(map(str, xs[:n])) + (" ... (+%d)" % (len(xs) - n) if len(xs) > n else "")


def diff_summary(kind, a, b):
    """a = Dovecot's answer, b = tidemark's."""
    if kind == "search":
        sa, sb = set(a), set(b)
        return "only dovecot (%d): %s | only tidemark (%d): %s" % (
            len(sa - sb), short(sorted(sa - sb)), len(sb - sa), short(sorted(sb - sa)))
    if kind == "sort":
        if set(a) != set(b):
            return "different sets: " + diff_summary("search", a, b)
        i = next(k for k in range(len(a)) if a[k] != b[k])
        return "same %d messages, first difference at position %d: dovecot ...%s... tidemark ...%s..." % (
            len(a), i + 1, short(a[max(0, i - 2):i + 6], 8), short(b[max(0, i - 2):i + 6], 8))
    ta = {t for t in a}
    tb = {t for t in b}
    only_a = [render_tree(t) for t in a if t not in tb]
    only_b = [render_tree(t) for t in b if t not in ta]
    return "threads dovecot %d, tidemark %d; only dovecot: %s | only tidemark: %s" % (
        len(a), len(b), " ; ".join(only_a[:4]), " ; ".join(only_b[:4]))


def run_queries(client, queries, kinds, deadline, results):
    for idx, (kind, q) in enumerate(queries):
        if kind not in kinds:
            continue
        if time.monotonic() > deadline:
            results[idx] = ("TIMEOUT", None, "time budget exhausted")
            continue
        t = time.monotonic()
        try:
            st, un, tl = client.command(build(kind, q))
        except Timeout as e:
            results[idx] = ("TIMEOUT", None, str(e))
            return
        el = time.monotonic() - t
        if st != "OK":
            results[idx] = (st, None, tl.decode("utf-8", "replace"), el)
            continue
        if kind == "search":
            ans = sorted(parse_numbers(un, "SEARCH"))
        elif kind == "sort":
            ans = parse_numbers(un, "SORT")
        else:
            try:
                ans = parse_thread(un)
            except (ValueError, IndexError) as e:
                results[idx] = ("UNPARSEABLE", None, "%s: %r" % (e, un[:3]), el)
                continue
        results[idx] = ("OK", ans, " ".join(l.decode("utf-8", "replace") for l in un
                                             if l.startswith(b"* " + kind.upper().encode())), el)


def needs(kind, q):
    """Capabilities tidemark must advertise for this query to be compared."""
    if kind == "search":
        return []
    if kind == "sort":
        caps = ["SORT"]
        if "DISPLAY" in q.split(")")[0]:
            caps.append("SORT=DISPLAY")
        return caps
    return ["THREAD=" + q.split()[0]]


def in_parallel(*fns):
    errs = []

    def wrap(f):
        try:
            f()
        except BaseException as e:  # noqa: BLE001 - reported below
            errs.append(e)

    ts = [threading.Thread(target=wrap, args=(f,), daemon=True) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise errs[0]


# ---------------------------------------------------------------------------
# Explaining a disagreement: which leaf keys disagree on which messages.

ZERO_ARG = {"ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN", "UNANSWERED",
            "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN", "NEW", "OLD", "RECENT"}
ONE_ARG = {"KEYWORD", "UNKEYWORD", "LARGER", "SMALLER", "BEFORE", "ON", "SINCE",
           "SENTBEFORE", "SENTON", "SENTSINCE", "FROM", "TO", "CC", "BCC", "SUBJECT",
           "BODY", "TEXT", "UID"}


def tokenize(q):
    toks = []
    i = 0
    while i < len(q):
        c = q[i]
        if c == " ":
            i += 1
        elif c in "()":
            toks.append(c)
            i += 1
        elif c == "\x00":
            j = q.index("\x01", i)
            toks.append(q[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < len(q) and q[j] not in " ()\x00":
                j += 1
            toks.append(q[i:j])
            i = j
    return toks


def leaves(q):
    """The leaf keys of a criteria string (marked form, see gen.render)."""
    toks = tokenize(q)
    out = []
    pos = 0

    def key():
        nonlocal pos
        t = toks[pos]
        pos += 1
        u = t.upper()
        if t == "(":
            while toks[pos] != ")":
                key()
            pos += 1
        elif u == "OR":
            key()
            key()
        elif u == "NOT":
            key()
        elif u in ZERO_ARG:
            out.append(t)
        elif u in ONE_ARG:
            out.append("%s %s" % (t, toks[pos]))
            pos += 1
        elif u == "HEADER":
            out.append("%s %s %s" % (t, toks[pos], toks[pos + 1]))
            pos += 2
        else:
            out.append(t)  # a sequence set
    while pos < len(toks):
        key()
    seen = set()
    return [x for x in out if not (x in seen or seen.add(x))]


def criteria_of(kind, q):
    if kind == "search":
        return q
    if kind == "sort":
        return q.split(")", 1)[1].split(None, 1)[1]   # after "(...) UTF-8"
    return q.split(None, 2)[2]                        # after "ALG UTF-8"


def leaf_needle(leaf):
    m = re.search("\x00(.*)\x01", leaf)
    return m.group(1) if m else None


def fold(s):
    import unicodedata
    return unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", s).casefold())


def decoded(raw_headers):
    """Header text with RFC 2047 words decoded (for explanations only)."""
    import email.header
    out = []
    for line in raw_headers.replace("\n ", " ").replace("\n\t", " ").split("\n"):
        try:
            out.append(str(email.header.make_header(email.header.decode_header(line))))
        except Exception:  # noqa: BLE001 - best effort
            out.append(line)
    return "\n".join(out)


def compress(ns):
    ns = sorted(set(ns))
    out = []
    i = 0
    while i < len(ns):
        j = i
        while j + 1 < len(ns) and ns[j + 1] == ns[j] + 1:
            j += 1
        out.append(str(ns[i]) if i == j else "%d:%d" % (ns[i], ns[j]))
        i = j + 1
    return ",".join(out)


def localize(dc, tm, crit, diff):
    """{message: [(leaf, server that matches it)]} for the leaves of `crit`
    that disagree on the messages in `diff` (UIDs = sequence numbers)."""
    out = {}
    uset = compress(diff)
    for leaf in leaves(crit):
        if leaf.upper() in ZERO_ARG or leaf.split()[0].upper() in ("UID", "KEYWORD", "UNKEYWORD"):
            continue  # metadata only; compared exactly by the load check
        if re.fullmatch(r"[\d:*,]+", leaf):
            continue
        res = []
        for c in (dc, tm):
            st, un, tl = c.command(build("search", "UID %s %s" % (uset, leaf)))
            res.append(set(parse_numbers(un, "SEARCH")) if st == "OK" else None)
        if res[0] is None or res[1] is None:
            for m in diff:
                out.setdefault(m, []).append((leaf, "error"))
            continue
        for m in res[0] - res[1]:
            out.setdefault(m, []).append((leaf, "dovecot"))
        for m in res[1] - res[0]:
            out.setdefault(m, []).append((leaf, "tidemark"))
    return out


# Disagreements on input the RFCs leave undefined, or on a representation
# they leave to the server. Not deviations of either server; each names the
# text that makes both answers acceptable. (deviations.json lists Dovecot's
# deviations from the RFCs.)
UNDEFINED = [
    {
        "id": "split-encoded-word",
        "class": "undefined input",
        "leaf": r"^(FROM|TO|CC|BCC|SUBJECT|HEADER|TEXT|BODY) ",
        "server": "either",
        "when": [{"fact": "notes", "in": ["split-ew"]}],
        "rfc": "RFC 2047 section 5: \"Each 'encoded-word' MUST represent an integral "
               "number of characters. A multi-octet character may not be split across "
               "adjacent 'encoded-word's.\"",
        "note": "The generator splits some UTF-8 B-encoded words inside a character; "
                "tidemark joins adjacent words before decoding, Dovecot decodes each word "
                "on its own (the halves become U+FFFD).",
    },
    {
        "id": "malformed-date",
        "class": "undefined input",
        "leaf": r"^SENT(BEFORE|ON|SINCE) ",
        "server": "either",
        "when": [{"fact": "date_kind", "in": ["garbage", "invalid-day", "iso8601", "empty",
                                              "year-10000", "no-time"]}],
        "rfc": "RFC 5322 3.3: date-time = [ day-of-week \",\" ] date time [CFWS]; "
               "RFC 9051 6.4.4 defines SENT* only by \"Messages whose [RFC5322] Date: "
               "header (disregarding time and timezone) is earlier than ...\".",
        "note": "A Date: field that is not an RFC 5322 date-time (no time of day, "
                "30 Feb, ISO 8601, empty, garbage) has no defined day: Dovecot takes "
                "it as 1 Jan 1970 (or normalises 30 Feb to 1 Mar); tidemark uses the day "
                "when day, month and year are readable and otherwise never matches.",
    },
    {
        "id": "address-text-form",
        "class": "representation",
        "leaf": r"^(FROM|TO|CC|BCC) ",
        "server": "either",
        "when": [{"needle_re": r"[<>()\",;:]"}],
        "rfc": "RFC 9051 6.4.4: \"FROM <string>: Messages that contain the specified string "
               "in the envelope structure's FROM field.\" The envelope holds parsed addresses "
               "(name, adl, mailbox, host: RFC 9051 7.5.2); no text form of that list is defined.",
        "note": "Dovecot matches against its re-serialisation \"name\" <mailbox@host> (so FROM "
                "\"<a@\" finds From: a@example.com), tidemark against the decoded field as "
                "written (so a comment \"(Carol Clark)\" or a group name can match). A string "
                "with address punctuation has no defined answer.",
    },
    {
        "id": "internaldate-zone",
        "class": "representation",
        "leaf": r"^(BEFORE|ON|SINCE) ",
        "server": "either",
        "when": [{"fact": "idate_day_differs", "in": [True]}],
        "rfc": "RFC 9051 6.4.4: \"BEFORE <date>: Messages whose internal date "
               "(disregarding time and timezone) is earlier than the specified date.\" "
               "RFC 9051 6.3.12 (APPEND) only requires the internal date to be set from "
               "the date-time, not its zone to be kept.",
        "note": "Dovecot's maildir keeps the instant only and reports INTERNALDATE in the "
                "server's zone (UTC here); tidemark keeps the zone given on APPEND. Each "
                "compares the day of the INTERNALDATE it reports in FETCH, and the two "
                "reported days differ for this message.",
    },
]


def load_rules(path):
    rules = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for e in data.get("deviations", []):
            rules.append(dict(e, **{"class": e.get("class", "dovecot deviation")}))
    rules.extend(UNDEFINED)
    for r in rules:
        r["_leaf"] = re.compile(r.get("leaf", "^$"), re.I)
    return rules


def condition_holds(cond, facts, leaf):
    if "fact" in cond:
        v = facts.get(cond["fact"])
        vs = v if isinstance(v, list) else [v]
        return any(x in cond["in"] for x in vs)
    if "needle_re" in cond:
        needle = leaf_needle(leaf)
        return needle is not None and re.search(cond["needle_re"], needle) is not None
    if "needle_in" in cond:
        needle = leaf_needle(leaf)
        return needle is not None and fold(needle) in fold(facts[cond["needle_in"]] or "")
    raise ValueError("unknown condition %r" % cond)


def rule_for_query(rules, kind, rendered):
    for r in rules:
        if "query" in r and kind in r.get("kinds", ["search", "sort", "thread"]) \
                and re.search(r["query"], rendered, re.I):
            return r
    return None


def rule_for(rules, kind, leaf, server, facts):
    rendered = gen.render(leaf)
    for r in rules:
        if kind not in r.get("kinds", ["search", "sort", "thread"]):
            continue
        if r.get("server", "either") not in ("either", server):
            continue
        if not r["_leaf"].search(rendered):
            continue
        if all(condition_holds(c, facts, leaf) for c in r.get("when", [])):
            return r
    return None


class Facts(dict):
    """Facts of one message: the generator's, plus some derived on demand
    (part_headers: the decoded header fields of every body part)."""

    def __init__(self, raw, base):
        super().__init__(base)
        self.raw = raw

    def __missing__(self, key):
        if key != "part_headers":
            return None
        import email
        import email.policy
        m = email.message_from_bytes(self.raw, policy=email.policy.compat32)
        lines = []
        for i, part in enumerate(m.walk()):
            if i:
                lines.extend("%s: %s" % (k, v) for k, v in part.items())
        self[key] = decoded("\n".join(lines))
        return self[key]


# Messages whose SORT/THREAD keys rest on undefined input: a subject or
# address made of encoded words that split a character (RFC 2047 5), or a
# Date: that is not an RFC 5322 date-time (RFC 5256 2.2 falls back to the
# INTERNALDATE "if the sent date cannot be determined", which depends on how
# lenient the parser is). SORT orders are compared without them (a total
# order restricted to a subset stays the same); THREAD forests without the
# threads that contain one.
TAINTED = {"notes": ["split-ew"],
           "date_kind": ["garbage", "invalid-day", "iso8601", "empty", "year-10000", "no-time"]}


def tainted(kind, facts, n, rules):
    f = facts.get(n, {})
    for k, vals in TAINTED.items():
        v = f.get(k)
        if any(x in vals for x in (v if isinstance(v, list) else [v])):
            return True
    # deviations.json entries with "order": true name messages whose sort or
    # thread keys a documented Dovecot deviation gets wrong
    for r in rules:
        if r.get("order") and kind in r.get("kinds", []) and \
                all(condition_holds(c, f, "") for c in r.get("when", [])):
            return True
    return False


def untainted(kind, a, b, facts, rules):
    """Both answers without the tainted messages (SORT), or without every
    thread that shares a message, on either side, with a thread holding a
    tainted message (THREAD; repeated until nothing more is left out)."""
    if kind == "sort":
        keep = [n for n in a if not tainted(kind, facts, n, rules)]
        skip = set(a) - set(keep)
        return keep, [n for n in b if n not in skip]
    threads = [set(thread_ids((t,))) for t in a + b]
    bad = {n for ids in threads for n in ids if tainted(kind, facts, n, rules)}
    grown = True
    while grown:
        grown = False
        for ids in threads:
            if ids & bad and not ids <= bad:
                bad |= ids
                grown = True
    return (tuple(t for t in a if not set(thread_ids((t,))) & bad),
            tuple(t for t in b if not set(thread_ids((t,))) & bad))


def message_facts(msgs, snaps):
    facts = {}
    for n, m in enumerate(msgs, 1):
        f = Facts(m["raw"], m["facts"])
        f["nested_headers"] = decoded(f.get("nested_headers", ""))
        days = {snaps[k][n][4].strip().split()[0].lstrip("0") for k in ("d", "t")}
        f["idate_day_differs"] = len(days) > 1
        facts[n] = f
    return facts


def main():
    global SOCK_TIMEOUT
    ap = argparse.ArgumentParser(description="SEARCH/SORT/THREAD: tidemark vs Dovecot")
    ap.add_argument("--tidemark-bin", default=os.path.join(ROOT, "target", "debug", "tidemark"))
    ap.add_argument("--tidemark-addr", help="use a running tidemark (HOST:PORT) instead")
    ap.add_argument("--user", help="login on --tidemark-addr")
    ap.add_argument("--password", help="password on --tidemark-addr")
    ap.add_argument("--only", default="search,sort,thread",
                    help="comma list of search, sort, thread")
    ap.add_argument("--seed", type=int, default=gen.SEED)
    ap.add_argument("--messages", type=int, default=gen.N_MESSAGES)
    ap.add_argument("--deviations", default=os.path.join(HERE, "deviations.json"))
    ap.add_argument("--budget", type=float, default=170.0,
                    help="seconds for the whole run (default 170)")
    ap.add_argument("--timeout", type=float, default=SOCK_TIMEOUT, help="per socket operation")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also print explained disagreements and slow queries")
    args = ap.parse_args()
    SOCK_TIMEOUT = args.timeout
    kinds = {k.strip().lower() for k in args.only.split(",") if k.strip()}
    bad = kinds - {"search", "sort", "thread"}
    if bad:
        ap.error("unknown kinds in --only: %s" % ", ".join(sorted(bad)))
    deadline = T0 + args.budget

    msgs = gen.gen_messages(args.seed, args.messages)
    queries = gen.gen_queries(msgs, args.seed)
    rules = load_rules(args.deviations)
    log("generated %d messages (%d bytes), %d queries (search %d, sort %d, thread %d)" % (
        len(msgs), sum(len(m["raw"]) for m in msgs), len(queries),
        sum(k == "search" for k, _ in queries), sum(k == "sort" for k, _ in queries),
        sum(k == "thread" for k, _ in queries)))

    tmp = tempfile.mkdtemp(prefix="tidemark-diff-")
    os.chmod(tmp, 0o755)
    dc_proc = tm_proc = None
    clients = []
    try:
        dc_proc, dc_port, dc_version, _ = start_dovecot(tmp)
        log("dovecot %s on 127.0.0.1:%d" % (dc_version, dc_port))
        if args.tidemark_addr:
            host, port = args.tidemark_addr.rsplit(":", 1)
            tm_port, tm_user, tm_pass = int(port), args.user or USER, args.password or PASSWORD
        else:
            if not os.path.exists(args.tidemark_bin):
                raise RuntimeError("no tidemark binary at %s (cargo build -p tidemark)" % args.tidemark_bin)
            tm_proc, tm_port = start_tidemark(tmp, args.tidemark_bin)
            tm_user, tm_pass = USER, PASSWORD
        log("tidemark on 127.0.0.1:%d" % tm_port)
        dc = Imap("127.0.0.1", dc_port, "dovecot")
        tm = Imap("127.0.0.1", tm_port, "tidemark")
        clients = [dc, tm]
        dc.login(USER, PASSWORD)
        tm.login(tm_user, tm_pass)

        counts = {}
        in_parallel(lambda: counts.__setitem__("dovecot", load(dc, msgs)),
                    lambda: counts.__setitem__("tidemark", load(tm, msgs)))
        log("loaded: dovecot %d, tidemark %d messages" % (counts["dovecot"], counts["tidemark"]))
        if counts["dovecot"] != len(msgs) or counts["tidemark"] != len(msgs):
            raise RuntimeError("INBOX must hold exactly the %d generated messages on both "
                               "(use a fresh account)" % len(msgs))
        snaps = {}
        in_parallel(lambda: snaps.__setitem__("d", snapshot(dc)),
                    lambda: snaps.__setitem__("t", snapshot(tm)))
        load_diffs = []
        for n in range(1, len(msgs) + 1):
            a, b = snaps["d"].get(n), snaps["t"].get(n)
            if a is None or b is None or a[:4] != b[:4]:
                load_diffs.append((n, a, b))
        for n, a, b in load_diffs[:10]:
            print("LOAD MISMATCH #%d: dovecot (uid, flags, size, internaldate)=%s tidemark=%s" % (n, a, b))
        if load_diffs:
            raise RuntimeError("%d messages differ after loading (UID, flags, RFC822.SIZE or "
                               "INTERNALDATE); queries would not be comparable" % len(load_diffs))
        log("loaded mailboxes agree on UID, FLAGS, RFC822.SIZE and INTERNALDATE")
        facts = message_facts(msgs, snaps)

        # Which kinds tidemark can answer yet.
        not_yet = set()
        for idx, (kind, q) in enumerate(queries):
            if kind in kinds and any(c not in tm.caps for c in needs(kind, q)):
                not_yet.add(idx)
        res_d, res_t = {}, {}
        sel = [(k, q) if i not in not_yet else ("skip", q) for i, (k, q) in enumerate(queries)]
        in_parallel(lambda: run_queries(dc, sel, kinds, deadline, res_d),
                    lambda: run_queries(tm, sel, kinds, deadline, res_t))
        log("queries done")

        per_kind = {k: dict(compared=0, agree=0, explained=0, unexplained=0, not_yet=0, timeout=0)
                    for k in ("search", "sort", "thread")}
        rule_hits = {}       # rule id -> number of queries it (partly) explains
        causes = {}          # (leaf key, server) -> [queries] for unexplained leaf diffs
        slow = []
        for idx, (kind, q) in enumerate(queries):
            if kind not in kinds:
                continue
            pk = per_kind[kind]
            if idx in not_yet:
                pk["not_yet"] += 1
                continue
            rq = "%s %s" % (kind.upper(), gen.render(q))
            d, t = res_d.get(idx), res_t.get(idx)
            if d is None or t is None or d[0] == "TIMEOUT" or t[0] == "TIMEOUT":
                pk["timeout"] += 1
                print("TIMEOUT #%d %s" % (idx, rq))
                continue
            pk["compared"] += 1
            if len(t) > 3 and t[3] > 5:
                slow.append((t[3], rq))
            if (d[0] == t[0] == "OK" and d[1] == t[1]) or (d[0] == t[0] and d[0] != "OK"):
                pk["agree"] += 1
                continue
            lines = []
            ok = False
            used = set()
            if d[0] != "OK" or t[0] != "OK":
                summary = ("dovecot answered %s: %s" % (d[0], d[2]) if d[0] != "OK"
                           else "tidemark answered %s: %s" % (t[0], t[2]))
                causes.setdefault(("(status)", "-"), []).append(rq)
            else:
                summary = diff_summary(kind, d[1], t[1])
                ids_d = set(d[1]) if kind != "thread" else set(thread_ids(d[1]))
                ids_t = set(t[1]) if kind != "thread" else set(thread_ids(t[1]))
                diff = ids_d ^ ids_t
                if diff and time.monotonic() < deadline:
                    loc = localize(dc, tm, criteria_of(kind, q), diff)
                    ok = True
                    bad_leaves = {}
                    for m in sorted(diff):
                        why = loc.get(m, [])
                        if not why:
                            # every leaf agrees on m: the servers combine them
                            # differently (entries with a "query" pattern)
                            r = rule_for_query(rules, kind, gen.render(criteria_of(kind, q)))
                            if r:
                                used.add(r["id"])
                                continue
                            ok = False
                            bad_leaves.setdefault(("(no leaf disagrees: evaluation of OR/NOT/AND)", "-"), []).append(m)
                            continue
                        for leaf, server in why:
                            r = rule_for(rules, kind, leaf, server, facts[m])
                            if r:
                                used.add(r["id"])
                            else:
                                ok = False
                                bad_leaves.setdefault((gen.render(leaf), server), []).append(m)
                    for (leaf, server), ms in sorted(bad_leaves.items()):
                        lines.append("    leaf %s: only %s matches %s" % (leaf, server, short(ms, 12)))
                        causes.setdefault((leaf.split()[0].upper() if leaf[0] != "(" else leaf, server),
                                          []).append(rq)
                    if ok and kind != "search":
                        # the sets now agree up to explained messages; the
                        # order/tree is compared only when the sets are equal
                        lines.append("    (order/tree not compared: result sets differ)")
                elif not diff:
                    # Same messages, different order or tree: compare again
                    # without the messages whose sort/thread keys rest on
                    # input the RFCs leave undefined (see TAINTED).
                    td, tt = untainted(kind, d[1], t[1], facts, rules)
                    if td == tt:
                        ok = True
                        used.add("undefined-sort-keys")
                    else:
                        summary = diff_summary(kind, td, tt) + " (undefined-input messages left out)"
                        causes.setdefault(("(%s order)" % kind, "-"), []).append(rq)
            if ok:
                pk["explained"] += 1
                for u in used:
                    rule_hits[u] = rule_hits.get(u, 0) + 1
                if args.verbose:
                    print("EXPLAINED (%s) #%d %s\n    %s" % (", ".join(sorted(used)), idx, rq, summary))
                continue
            pk["unexplained"] += 1
            print("DISAGREE #%d %s" % (idx, rq))
            print("    dovecot:  %s" % (d[2][:300] if d[0] == "OK" else d[2]))
            print("    tidemark: %s" % (t[2][:300] if t[0] == "OK" else t[2]))
            print("    diff:     %s" % summary)
            for ln in lines:
                print(ln)
        if args.verbose:
            for el, rq in sorted(slow, reverse=True)[:10]:
                print("SLOW %.1fs on tidemark: %s" % (el, rq))
        print()
        if causes:
            print("unexplained leaf disagreements (key, server that matches): queries")
            for (k, server), rqs in sorted(causes.items(), key=lambda x: -len(x[1])):
                print("  %-40s %-9s %4d  e.g. %s" % (k, server, len(rqs), rqs[0][:100]))
        for r in rules + [{"id": "undefined-sort-keys", "class": "undefined input"}]:
            if r["id"] in rule_hits:
                print("explained by %s (%s): %d queries" % (r["id"], r["class"], rule_hits[r["id"]]))
        total = dict(compared=0, agree=0, explained=0, unexplained=0, not_yet=0, timeout=0)
        for k in ("search", "sort", "thread"):
            if k in kinds:
                pk = per_kind[k]
                for x in total:
                    total[x] += pk[x]
                extra = " (not yet: tidemark does not advertise it)" if pk["not_yet"] and not pk["compared"] else ""
                print("%s: %d compared, %d agree, %d explained, %d unexplained, %d not yet%s" % (
                    k, pk["compared"], pk["agree"], pk["explained"], pk["unexplained"], pk["not_yet"], extra))
        ok = total["unexplained"] == 0 and total["timeout"] == 0
        print("totals: messages %d, queries %d, compared %d, agreements %d, explained %d, "
              "unexplained %d, not yet %d, timeouts %d, %.0f s" % (
                  len(msgs), sum(1 for k, _ in queries if k in kinds), total["compared"],
                  total["agree"], total["explained"], total["unexplained"], total["not_yet"],
                  total["timeout"], time.monotonic() - T0))
        print("differential: PASS" if ok else "differential: FAIL")
        return 0 if ok else 1
    finally:
        for c in clients:
            c.close()
        stop(tm_proc)
        stop(dc_proc)
        if args.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def thread_ids(forest):
    out = []

    def walk(n):
        if n[0] is not None:
            out.append(n[0])
        for k in n[1]:
            walk(k)
    for t in forest:
        walk(t)
    return out


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, Timeout, OSError) as e:
        print("differential: ERROR: %s" % e, flush=True)
        sys.exit(2)
