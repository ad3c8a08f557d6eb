#!/usr/bin/env python3
"""getmail6 with SimpleIMAPSSLRetriever (verifying the generated
certificate): retrieves into a Maildir leaving mail on the server (a second
run retrieves nothing new), then with `delete = true` into an mboxrd file,
after which the server INBOX is empty.

getmail refuses to deliver as root; when run as root (CI containers) the
destinations are owned by `nobody` and delivered with `user = nobody`.

Usage: getmail_retrieve.py TLS_PORT PLAIN_PORT CAFILE WORKDIR
"""
import glob
import imaplib
import os
import pwd
import subprocess
import sys

tls_port, port, cafile, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
as_root = os.geteuid() == 0
maildir = os.path.join(work, "Maildir")
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(maildir, sub), exist_ok=True)
mbox = os.path.join(work, "out.mbox")
open(mbox, "w").close()
state = os.path.join(work, "getmail")
os.makedirs(state, exist_ok=True)
if as_root:
    nobody = pwd.getpwnam("nobody")
    os.chmod(work, 0o755)
    for p in [mbox, maildir] + [os.path.join(maildir, s) for s in ("cur", "new", "tmp")]:
        os.chown(p, nobody.pw_uid, nobody.pw_gid)


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


def getmail(name, destination, options):
    rc = os.path.join(work, f"{name}.rc")
    user = "user = nobody\n" if as_root else ""
    with open(rc, "w") as f:
        f.write(f"""[retriever]
type = SimpleIMAPSSLRetriever
server = localhost
port = {tls_port}
username = alice
password = pass
ca_certs = {cafile}
mailboxes = ("INBOX",)

[destination]
{destination}
{user}
[options]
verbose = 2
{options}
""")
    r = subprocess.run(["getmail", "--getmaildir", state, "--rcfile", rc],
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    check(r.returncode == 0, f"getmail {name} failed ({r.returncode}):\n{out}")
    return out


def subjects(blobs):
    out = []
    for b in blobs:
        for line in b.split(b"\n"):
            if line.startswith(b"Subject: "):
                out.append(line[9:].strip().decode())
    return sorted(out)


def maildir_subjects():
    files = glob.glob(os.path.join(maildir, "new", "*")) + glob.glob(os.path.join(maildir, "cur", "*"))
    return subjects([open(p, "rb").read() for p in files])


def imap():
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login("alice", "pass")
    return m


def server_count(m):
    typ, data = m.select("INBOX")
    return int(data[0])


m = imap()
for i in range(3):
    m.append("INBOX", None, None,
             f"From: a@b\r\nTo: alice@localhost\r\nSubject: s{i}\r\n\r\nbody {i}\r\n".encode())

# 1. Maildir, keep on server, only new messages.
dest = f"type = Maildir\npath = {maildir}/"
log = getmail("maildir", dest, "read_all = false\ndelete = false")
check(maildir_subjects() == ["s0", "s1", "s2"], f"Maildir got {maildir_subjects()}:\n{log}")
check(server_count(m) == 3, "messages stay on the server without delete")

# 2. Again: nothing new. Then one new message: only that one.
log = getmail("maildir", dest, "read_all = false\ndelete = false")
check(maildir_subjects() == ["s0", "s1", "s2"], f"second run retrieved nothing: {maildir_subjects()}:\n{log}")
m.append("INBOX", None, None, b"From: a@b\r\nTo: alice@localhost\r\nSubject: s3\r\n\r\nbody 3\r\n")
log = getmail("maildir", dest, "read_all = false\ndelete = false")
check(maildir_subjects() == ["s0", "s1", "s2", "s3"], f"only the new one: {maildir_subjects()}:\n{log}")

# 3. mboxrd, read_all and delete: all four retrieved, server emptied.
log = getmail("mbox", f"type = Mboxrd\npath = {mbox}", "read_all = true\ndelete = true")
data = open(mbox, "rb").read()
check(data.count(b"\nFrom ") + data.startswith(b"From ") == 4, f"4 mbox entries:\n{data.decode()}\n{log}")
check(subjects([data]) == ["s0", "s1", "s2", "s3"], f"mbox subjects {subjects([data])}")
check(b"body 2" in data, "message bodies delivered")
check(server_count(m) == 0, f"server INBOX empty after delete = true:\n{log}")
m.logout()
print("getmail: Maildir and mboxrd with delete passed")
