#!/usr/bin/env python3
"""aerc in tmux, used as a new user would: only accounts.conf is written
(aerc creates its default aerc.conf and binds.conf on first start); it opens
the IMAPS inbox (Go's TLS trusting CAFILE through SSL_CERT_FILE), lists the
three messages with their senders and subjects (the RFC 2047 one decoded),
opens the multipart message (the newest, at the top of the list), shows its
text and its part list with the attachment, and quits.

aerc reads the list with ENVELOPE and BODYSTRUCTURE and the text part with
BODY.PEEK[1], so this exercises the server's MIME parsing.

Usage: tui_aerc.py TLS_PORT PLAIN_PORT CAFILE WORKDIR
"""
import os
import shlex
import sys

import tui
from tui import check

tls_port, port, cafile, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
home = os.path.join(work, "home")
confdir = os.path.join(home, ".config", "aerc")
os.makedirs(confdir, exist_ok=True)
os.makedirs(os.path.join(work, "run"), mode=0o700, exist_ok=True)
log = os.path.join(work, "aerc.log")

tui.seed(port)

accounts = os.path.join(confdir, "accounts.conf")
with open(accounts, "w") as f:
    f.write(f"""[alice]
source = imaps://alice:pass@localhost:{tls_port}
outgoing = /bin/false
default = INBOX
from = Alice <alice@localhost>
connection-timeout = 20s
""")
os.chmod(accounts, 0o600)  # aerc refuses a group/world readable accounts.conf

env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
           XDG_DATA_HOME=os.path.join(home, ".local/share"),
           XDG_CACHE_HOME=os.path.join(home, ".cache"),
           XDG_RUNTIME_DIR=os.path.join(work, "run"),  # aerc's control socket
           LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="screen", SSL_CERT_FILE=cafile,
           SSL_CERT_DIR=os.path.join(work, "no-cert-dir"), PAGER="less -R")
# aerc draws on /dev/tty; with its stdout redirected it logs at trace level.
cmd = f"aerc > {shlex.quote(log)} 2>&1"
t = None
ok = False
try:
    t = tui.Tmux(work, "aerc", cmd, env)
    # aerc shows a failed command as "<account>: <error>" in its status line.
    t.errors = ("alice: ", "x509:", "certificate", "Error", "error", "New account",
                "authentication failed")
    # The index: all three senders and subjects, the encoded-word decoded.
    screen = t.wait_for("the index: 3 rows of sender and subject", tui.index_ok)
    check("=?UTF-8?" not in screen, "the encoded-word subject is shown raw")
    check("INBOX" in screen, "the folder list should show INBOX")
    rows = [l for l in screen.splitlines() if any(s in l for s in tui.SUBJECTS)]
    check(tui.SUBJECTS[2] in rows[0], f"the newest message should be on top: {rows}")

    # Open the selected (top) message: headers, the text part and the part list.
    t.keys("Enter")
    screen = t.wait_all("the viewer with the body and the part list",
                        [tui.BODY_TEXT, "Subject: Monthly report attached", "Erin Report",
                         "text/plain", "application/pdf", tui.ATTACHMENT])
    parts = [l.strip() for l in screen.splitlines()
             if "text/plain" in l or tui.ATTACHMENT in l]
    check(any(l.startswith("application/pdf") and tui.ATTACHMENT in l for l in parts),
          f"the part list should show application/pdf with {tui.ATTACHMENT}: {parts}")

    # Close the viewer, then quit.
    t.keys("q")
    t.wait_for("the index again", lambda s: tui.index_ok(s) and "(END)" not in s, 10)
    t.keys("q")
    check(t.wait_exit(15), "aerc did not quit")
    ok = True
finally:
    if not ok:
        tui.dump_screen(t)
        print("---- aerc log (tail) ----")
        print(tui.tail(log, 120))
    if t is not None:
        t.kill()

print("aerc: inbox and multipart passed")
