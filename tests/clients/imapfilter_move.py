#!/usr/bin/env python3
"""imapfilter (Debian package) runs the Lua rule set imapfilter_rules.lua
against the server over plaintext IMAP on loopback: it searches INBOX by
sender, subject and flags and moves the matches to Invoices, Urgent and
Old-News. Afterwards every mailbox is read over raw IMAP and must hold exactly
the expected messages (by Message-ID), with the moved ones gone from INBOX.

Usage: imapfilter_move.py TLS_PORT PLAIN_PORT CAFILE WORKDIR
"""
import imaplib
import os
import re
import subprocess
import sys

tls_port, port, cafile, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
HERE = os.path.dirname(os.path.abspath(__file__))
USER, PASS = "alice", "pass"


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


# (id, header lines, APPEND flags, where it must end up)
MESSAGES = [
    ("inv1", "From: Alice Anderson <alice@example.com>\r\nSubject: Invoice 42", "", "Invoices"),
    ("inv2", "From: alice@shop.example\r\nSubject: Your INVOICE for May", "\\Seen", "Invoices"),
    ("inv3", "From: =?utf-8?Q?Alice_M=C3=BCller?= <amueller@example.de>\r\n"
             "Subject: =?utf-8?Q?Invoice_f=C3=BCr_Juni?=", "", "Invoices"),
    ("bob-inv", "From: Bob Brown <bob@example.com>\r\nSubject: Invoice from Bob", "", "INBOX"),
    ("alice-lunch", "From: alice@example.com\r\nSubject: Lunch?", "\\Flagged \\Seen", "INBOX"),
    ("alice-cc", "From: carol@example.com\r\nCc: alice@example.com\r\nSubject: invoice copy",
     "", "INBOX"),
    ("urgent1", "From: carol@example.com\r\nSubject: Server down", "\\Flagged", "Urgent"),
    ("urgent2", "From: Dave <dave@example.net>\r\nSubject: Contract", "\\Flagged \\Answered", "Urgent"),
    ("flag-seen", "From: dave@example.net\r\nSubject: Old flagged", "\\Flagged \\Seen", "INBOX"),
    ("unseen", "From: eve@example.com\r\nSubject: Plain unread", "", "INBOX"),
    ("news-read", "From: News <news@lists.example>\r\nSubject: Weekly digest", "\\Seen", "Old-News"),
    ("news-new", "From: News <news@lists.example>\r\nSubject: Weekly digest 2", "", "INBOX"),
    ("unsub", "From: shop@example.org\r\nSubject: How to UNSUBSCRIBE", "", "Old-News"),
]


def raw(mid, headers):
    return (f"{headers}\r\nTo: alice@example.com\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            f"Message-ID: <{mid}@test>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nbody of {mid}\r\n").encode()


def ids_in(m, box):
    typ, data = m.select(f'"{box}"')
    check(typ == "OK", f"SELECT {box}: {data}")
    if int(data[0]) == 0:
        return []
    typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    check(typ == "OK", f"FETCH in {box}: {data}")
    out = []
    for item in data:
        if isinstance(item, tuple):
            found = re.search(rb"<([^@>]+)@test>", item[1])
            check(found, f"no Message-ID in {item!r}")
            out.append(found.group(1).decode())
    return sorted(out)


m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
m.login(USER, PASS)
for box in ("Invoices", "Urgent", "Old-News"):
    typ, data = m.create(box)
    check(typ == "OK", f"CREATE {box}: {data}")
for mid, headers, flags, _ in MESSAGES:
    typ, data = m.append("INBOX", f"({flags})" if flags else None, None, raw(mid, headers))
    check(typ == "OK", f"APPEND {mid}: {data}")
m.logout()

env = dict(os.environ, HOME=work, IMAPFILTER_TEST_PORT=str(port),
           IMAPFILTER_TEST_USER=USER, IMAPFILTER_TEST_PASS=PASS)
r = subprocess.run(["imapfilter", "-c", os.path.join(HERE, "imapfilter_rules.lua"),
                    "-d", os.path.join(work, "imapfilter.debug")],
                   capture_output=True, text=True, timeout=120, env=env,
                   stdin=subprocess.DEVNULL)
debug = ""
for name in os.listdir(work):
    if name.startswith("imapfilter.debug"):
        debug += open(os.path.join(work, name), errors="replace").read()
print(r.stdout + r.stderr)
check(r.returncode == 0, f"imapfilter exit {r.returncode}:\n{r.stdout}{r.stderr}\n{debug[-4000:]}")
# it did search and move (MOVE, or COPY + STORE \Deleted + EXPUNGE)
check(re.search(r"SEARCH.*FROM", debug, re.I), f"no SEARCH FROM in the session:\n{debug[-3000:]}")
check(re.search(r"UID (MOVE|COPY)", debug, re.I), f"no UID MOVE/COPY in the session:\n{debug[-3000:]}")

m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
m.login(USER, PASS)
for box in ("INBOX", "Invoices", "Urgent", "Old-News"):
    want = sorted(mid for mid, _, _, where in MESSAGES if where == box)
    got = ids_in(m, box)
    check(got == want, f"{box} holds {got}, expected {want}")
    print(f"{box}: {', '.join(got)}")
m.logout()
print("imapfilter: rules by sender, subject and flags moved the right messages")
