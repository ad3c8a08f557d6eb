#!/usr/bin/env python3
"""Two-way sync with mbsync (isync): new mail, flag changes and deletions on
either side reach the other.

Usage: mbsync_twoway.py TLS_PORT PLAIN_PORT CAFILE WORKDIR
"""
import glob
import imaplib
import os
import subprocess
import sys

tls_port, port, cafile, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
local = os.path.join(work, "mail")
os.makedirs(local, exist_ok=True)
cfg = os.path.join(work, "mbsyncrc")
with open(cfg, "w") as f:
    f.write(f"""IMAPAccount t
Host localhost
Port {tls_port}
User alice
Pass pass
SSLType IMAPS
CertificateFile {cafile}

IMAPStore remote
Account t

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel c
Far :remote:
Near :local:
Patterns INBOX Archive
Create Both
Expunge Both
SyncState *
""")


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


def mbsync():
    r = subprocess.run(["mbsync", "-c", cfg, "-a"], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"mbsync failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


def imap():
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login("alice", "pass")
    return m


def local_files(folder="INBOX"):
    return sorted(glob.glob(os.path.join(local, folder, "cur", "*")) +
                  glob.glob(os.path.join(local, folder, "new", "*")))


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

# 1. Server mail reaches the near side; near mail reaches the server.
os.makedirs(os.path.join(local, "INBOX", "cur"), exist_ok=True)
mbsync()
check(len(local_files()) == 3, f"3 messages pulled, got {local_files()}")
newmsg = os.path.join(local, "INBOX", "cur", "1700000000.1_1.host:2,S")
with open(newmsg, "wb") as f:
    f.write(b"From: me@b\r\nSubject: local1\r\n\r\nfrom the near side\r\n")
mbsync()
m = imap()
flags = server_flags(m)
check("local1" in flags and "\\Seen" in flags["local1"], f"near mail pushed with \\Seen: {flags}")

# 2. Near side: flag s0, delete s1. Far side: flag s2 \Answered, delete local1.
for p in local_files():
    body = open(p, "rb").read()
    if b"Subject: s0" in body:
        base, _, fl = p.partition(":2,")
        os.rename(p, base + ":2," + "".join(sorted(set(fl + "F"))))
    elif b"Subject: s1" in body:
        os.remove(p)
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
mbsync()

m = imap()
flags = server_flags(m)
check("s1" not in flags, f"near deletion reached the server: {flags}")
check("\\Flagged" in flags.get("s0", ""), f"near flag reached the server: {flags}")
names = [open(p, "rb").read() for p in local_files()]
check(not any(b"local1" in n for n in names), "far deletion reached the near side")
s2 = [p for p in local_files() if b"Subject: s2" in open(p, "rb").read()]
check(len(s2) == 1 and "R" in s2[0].rpartition(":2,")[2], f"far flag reached the near side: {s2}")
m.logout()
print("mbsync: two-way sync passed")
