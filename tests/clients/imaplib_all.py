#!/usr/bin/env python3
"""Drives tidemark with Python's stdlib imaplib: every command of issue 2.

Usage: imaplib_all.py PORT TLS_PORT CAFILE
Exits non-zero with a message on the first mismatch.
"""
import imaplib
import re
import ssl
import sys
import time

port, tls_port, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


def ok(resp, what):
    typ, data = resp
    check(typ == "OK", f"{what}: {typ} {data!r}")
    return data


# Plain connection on loopback: LOGIN allowed.
m = imaplib.IMAP4("127.0.0.1", port)
check("IMAP4REV1" in m.capabilities, f"capabilities {m.capabilities}")
ok(m.noop(), "NOOP")
ok(m.login("alice", "pass"), "LOGIN")
ok(m.xatom("ID", '("name" "imaplib")'), "ID")
ok(m.enable("X-UNKNOWN-EXTENSION"), "ENABLE (unknown extensions are ignored)")
ok(m.namespace(), "NAMESPACE")

# Mailbox management.
names = ok(m.list(), "LIST")
joined = b" ".join(names)
for want in [b"INBOX", b"Drafts", b"Sent", b"Trash", b"Junk", b"Archive"]:
    check(want in joined, f"LIST has {want}: {joined!r}")
check(b"\\Sent" in joined and b"\\Trash" in joined, "special-use attributes")
ok(m.create("Projects/2026"), "CREATE")
ok(m.create("Projekte/Entw&APw-rfe"), "CREATE mUTF-7")
lst = ok(m.list('""', "Projekte/*"), "LIST mUTF-7")
check(any(b"Entw&APw-rfe" in x for x in lst), f"mUTF-7 name round trip {lst!r}")
ok(m.rename("Projects", "Work"), "RENAME")
lst = b" ".join(ok(m.list('""', "Work*"), "LIST after rename"))
check(b"Work/2026" in lst, f"children renamed {lst!r}")
ok(m.subscribe("Work/2026"), "SUBSCRIBE")
lsub = b" ".join(ok(m.lsub('""', "Work*"), "LSUB"))
check(b"Work/2026" in lsub, f"LSUB {lsub!r}")
ok(m.unsubscribe("Work/2026"), "UNSUBSCRIBE")
ok(m.delete("Work/2026"), "DELETE")
typ, _ = m.delete("Nope")
check(typ == "NO", "DELETE missing gives NO")

# APPEND with flags and date; APPENDUID.
msg = b"From: bob@example.org\r\nTo: alice@example.org\r\nSubject: hello\r\n\r\nHello Alice\r\n"
date = imaplib.Time2Internaldate(time.mktime((2024, 1, 5, 10, 11, 12, 0, 0, -1)))
typ, data = m.append("INBOX", "(\\Flagged)", date, msg)
check(typ == "OK" and b"APPENDUID" in data[0], f"APPEND {data!r}")
for i in range(4):
    ok(m.append("INBOX", None, None, msg.replace(b"hello", b"msg %d" % i)), "APPEND more")

st = ok(m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)"), "STATUS")
check(b"MESSAGES 5" in st[0] and b"UIDNEXT 6" in st[0], f"STATUS {st!r}")

typ, data = m.select("INBOX")
check(typ == "OK" and data[0] == b"5", f"SELECT {data!r}")
data = ok(m.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE UID)"), "FETCH meta")
check(b"\\Flagged" in data[0] and f"RFC822.SIZE {len(msg)}".encode() in data[0], f"FETCH {data!r}")
data = ok(m.fetch("1", "(BODY.PEEK[])"), "FETCH BODY.PEEK[]")
check(data[0][1] == msg, "body intact")
data = ok(m.fetch("1", "(BODY.PEEK[]<6.9>)"), "FETCH partial")
check(data[0][1] == msg[6:15], f"partial {data!r}")
data = ok(m.fetch("1", "(FLAGS)"), "FETCH FLAGS")
check(b"\\Seen" not in data[0], "PEEK does not set \\Seen")
data = ok(m.fetch("2", "(RFC822)"), "FETCH RFC822")
flags = ok(m.fetch("2", "(FLAGS)"), "FETCH FLAGS after RFC822")
check(b"\\Seen" in flags[0], "RFC822 sets \\Seen")
data = ok(m.uid("FETCH", "1:*", "(UID FLAGS)"), "UID FETCH 1:*")
check(len([d for d in data if d]) == 5, f"UID FETCH count {data!r}")

# STORE.
ok(m.store("3", "+FLAGS", "(\\Deleted custom)"), "STORE +FLAGS")
data = ok(m.store("3", "-FLAGS", "(custom)"), "STORE -FLAGS")
check(b"custom" not in data[0], f"-FLAGS {data!r}")
ok(m.store("4", "FLAGS.SILENT", "(\\Answered)"), "STORE FLAGS.SILENT")
ok(m.uid("STORE", "5", "+FLAGS", "(\\Deleted)"), "UID STORE")

# COPY and MOVE with COPYUID.
typ, data = m.copy("1:2", "Archive")
check(typ == "OK" and b"COPYUID" in data[0], f"COPY {data!r}")
typ, data = m.copy("1", "Missing")
check(typ == "NO" and b"TRYCREATE" in data[0], f"COPY TRYCREATE {data!r}")
typ, data = m.uid("MOVE", "1", "Trash")
check(typ == "OK", f"MOVE {data!r}")

# UID EXPUNGE then EXPUNGE.
typ, data = m.uid("EXPUNGE", "5")
check(typ == "OK", f"UID EXPUNGE {data!r}")
typ, data = m.expunge()
check(typ == "OK", f"EXPUNGE {data!r}")
st = ok(m.status("INBOX", "(MESSAGES)"), "STATUS after expunge")
check(b"MESSAGES 2" in st[0], f"after expunge {st!r}")
ok(m.status("Trash", "(MESSAGES)"), "STATUS Trash")

# EXAMINE is read-only.
typ, data = m.select("Archive", readonly=True)
check(typ == "OK" and data[0] == b"2", f"EXAMINE {data!r}")
typ, data = m.store("1", "+FLAGS", "(\\Deleted)")
check(typ == "NO", "STORE on EXAMINE refused")
ok(m.unselect(), "UNSELECT")
ok(m.select("INBOX"), "SELECT again")
ok(m.check(), "CHECK")
ok(m.close(), "CLOSE")
typ, _ = m.logout()
check(typ == "BYE", "LOGOUT")

# IMAPS with certificate verification against the generated certificate.
ctx = ssl.create_default_context(cafile=cafile)
s = imaplib.IMAP4_SSL("localhost", tls_port, ssl_context=ctx)
ok(s.login("alice", "pass"), "LOGIN over IMAPS")
ok(s.select("INBOX"), "SELECT over IMAPS")
s.logout()

# STARTTLS on the plain port.
t = imaplib.IMAP4("127.0.0.1", port)
check("STARTTLS" in t.capabilities, "STARTTLS advertised")
ctx2 = ssl.create_default_context(cafile=cafile)
ctx2.check_hostname = False  # connected by IP; the name check is done above
ok(t.starttls(ssl_context=ctx2), "STARTTLS")
ok(t.login("alice", "pass"), "LOGIN after STARTTLS")
t.logout()

# AUTHENTICATE PLAIN (SASL-IR is used by imaplib when the server offers it? no: it sends a continuation).
a = imaplib.IMAP4("127.0.0.1", port)
ok(a.authenticate("PLAIN", lambda _: b"\0alice\0pass"), "AUTHENTICATE PLAIN")
a.logout()
print("imaplib: all checks passed")
