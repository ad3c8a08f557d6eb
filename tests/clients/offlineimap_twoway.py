#!/usr/bin/env python3
"""Two-way sync with offlineimap over IMAPS: new mail, flag changes and
deletions on either side reach the other.

Usage: offlineimap_twoway.py TLS_PORT PLAIN_PORT CAFILE WORKDIR
"""
import glob
import imaplib
import os
import subprocess
import sys

tls_port, port, cafile, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
local = os.path.join(work, "mail")
os.makedirs(local, exist_ok=True)
cfg = os.path.join(work, "offlineimaprc")
with open(cfg, "w") as f:
    f.write(f"""[general]
accounts = t
metadata = {work}/meta
ui = basic

[Account t]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = {local}

[Repository remote]
type = IMAP
remotehost = localhost
remoteport = {tls_port}
remoteuser = alice
remotepass = pass
ssl = yes
sslcacertfile = {cafile}
folderfilter = lambda f: f in ['INBOX', 'Archive']
""")


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


runs = 0


def offlineimap():
    global runs
    runs += 1
    log = os.path.join(work, f"offlineimap.{runs}.log")
    r = subprocess.run(["offlineimap", "-c", cfg, "-o", "-d", "imap", "-l", log],
                       capture_output=True, text=True, timeout=180)
    out = r.stdout + r.stderr
    check(r.returncode == 0, f"offlineimap failed ({r.returncode}):\n{out}\n{open(log).read()}")
    # offlineimap reports some failures only as warnings/errors in its output.
    check("ERROR" not in out, f"offlineimap reported an error:\n{out}")


def imap():
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login("alice", "pass")
    return m


def local_files(folder="INBOX"):
    return sorted(glob.glob(os.path.join(local, folder, "cur", "*")) +
                  glob.glob(os.path.join(local, folder, "new", "*")))


def local_by_subject():
    out = {}
    for p in local_files():
        for line in open(p, "rb").read().split(b"\n"):
            if line.startswith(b"Subject: "):
                out[line[9:].strip().decode()] = p
    return out


def server_flags(m):
    m.select("INBOX")
    typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out = {}
    for item in data:
        if isinstance(item, tuple):
            subject = item[1].decode().strip().split(": ", 1)[1]
            out[subject] = item[0].decode()
    return out


m = imap()
for i in range(3):
    m.append("INBOX", None, None, f"From: a@b\r\nSubject: s{i}\r\n\r\nbody {i}\r\n".encode())
m.logout()

# 1. Server mail reaches the local Maildir; local mail reaches the server.
offlineimap()
check(len(local_files()) == 3, f"3 messages pulled, got {local_files()}")
newmsg = os.path.join(local, "INBOX", "cur", "1700000000.1_1.host:2,S")
with open(newmsg, "wb") as f:
    f.write(b"From: me@b\r\nSubject: local1\r\n\r\nfrom the local side\r\n")
offlineimap()
m = imap()
flags = server_flags(m)
check(len(flags) == 4, f"4 messages on the server: {flags}")
check("local1" in flags and "\\Seen" in flags["local1"], f"local mail pushed with \\Seen: {flags}")

# 2. Local side: flag s0, delete s1. Server side: flag s2 \Answered, delete local1.
byname = local_by_subject()
check(set(byname) == {"s0", "s1", "s2", "local1"}, f"local subjects: {sorted(byname)}")
p = byname["s0"]
base, _, fl = p.partition(":2,")
os.rename(p, base + ":2," + "".join(sorted(set(fl + "F"))))
os.remove(byname["s1"])
m.select("INBOX")
typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
for item in data:
    if isinstance(item, tuple):
        seq = item[0].split()[0].decode()
        if b"s2" in item[1]:
            m.store(seq, "+FLAGS", "(\\Answered)")
        if b"local1" in item[1]:
            m.store(seq, "+FLAGS", "(\\Deleted)")
m.expunge()
m.logout()
offlineimap()

m = imap()
flags = server_flags(m)
check("s1" not in flags, f"local deletion reached the server: {flags}")
check("\\Flagged" in flags.get("s0", ""), f"local flag reached the server: {flags}")
byname = local_by_subject()
check("local1" not in byname, f"server deletion reached the local side: {sorted(byname)}")
check(set(byname) == {"s0", "s2"}, f"local subjects after sync: {sorted(byname)}")
check("R" in byname["s2"].rpartition(":2,")[2], f"server flag reached the local side: {byname['s2']}")

# 3. A further run is a no-op: nothing changes on either side.
before = (sorted(flags.items()), sorted(byname))
offlineimap()
after = (sorted(server_flags(m).items()), sorted(local_by_subject()))
check(before == after, f"idempotent sync: {before} vs {after}")
m.logout()
print("offlineimap: two-way sync passed")
