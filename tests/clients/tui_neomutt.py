#!/usr/bin/env python3
"""neomutt in tmux, used as a new user would: it opens the IMAPS inbox
(trusting only CAFILE, no prompt), lists the three messages with their
senders and subjects (the RFC 2047 one decoded), opens the multipart message
and shows its text and the attachment, lists the attachments with `v`, and
quits.

Usage: tui_neomutt.py TLS_PORT PLAIN_PORT CAFILE WORKDIR
"""
import os
import shlex
import shutil
import sys

import tui
from tui import check

tls_port, port, cafile, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
home = os.path.join(work, "home")
os.makedirs(home, exist_ok=True)
debug_log = os.path.join(work, "neomutt.log")

tui.seed(port)

# The trusted certificate: neomutt (GnuTLS) trusts the CAs in
# ssl_ca_certificates_file and the certificates in certificate_file.
trusted = os.path.join(work, "trusted.pem")
shutil.copyfile(cafile, trusted)
muttrc = os.path.join(work, "muttrc")
with open(muttrc, "w") as f:
    f.write(f"""set folder="imaps://alice@localhost:{tls_port}/"
set spoolfile="+INBOX"
set imap_user="alice"
set imap_pass="pass"
set ssl_ca_certificates_file="{trusted}"
set certificate_file="{trusted}"
set ssl_verify_host=yes
set ssl_force_tls=yes
set ssl_starttls=no
set record=""
set postponed=""
set header_cache=""
set message_cachedir=""
set mbox="+INBOX"
set move=no
set quit=yes
set wait_key=no
set sort=date
set charset="utf-8"
set imap_check_subscribed=no
set mail_check_stats=no
set timeout=5
set connect_timeout=20
set sidebar_visible=no
set pager_stop=yes
""")

env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"), LANG="C.UTF-8",
           LC_ALL="C.UTF-8", TERM="screen", MAIL="", MAILCAPS="/dev/null")
cmd = " ".join(shlex.quote(a) for a in
               ["neomutt", "-n", "-F", muttrc, "-d", "5", "-l", debug_log])
t = None
ok = False
try:
    t = tui.Tmux(work, "neomutt", cmd, env)
    t.errors = ("Error in ", "Press any key", "(r)eject", "Certificate", "failed", "Login failed")
    # The index: all three senders and subjects, the encoded-word decoded.
    screen = t.wait_for("the index: 3 rows of sender and subject", tui.index_ok)
    check("=?UTF-8?" not in screen, "the encoded-word subject is shown raw")
    check("3 msgs" in screen or "Msgs:3" in screen,
          "the status line should count 3 messages")

    # Find the multipart message by its subject (client-side search) and open it.
    t.text("/")
    t.wait_for("the search prompt", lambda s: "Search for:" in s, 10)
    t.text("Monthly report")
    t.keys("Enter")
    t.keys("Enter")
    screen = t.wait_all("the pager with the body and the attachment",
                        [tui.BODY_TEXT, "Attachment #2: " + tui.ATTACHMENT,
                         "Subject: Monthly report attached", "From: Erin Report"])
    check("application/pdf" in screen, "the pager should show the attachment's type")

    # The attachment menu lists both parts (its default format cuts the
    # major type to 7 columns: "applica/pdf").
    t.text("v")
    t.wait_all("the attachment list", ["Attachments", tui.ATTACHMENT, "/pdf, base64", "text/plain"], 15)
    # Back to the pager, then to the index, then quit (quit=yes: no prompt).
    t.text("q")
    t.wait_for("the pager again", lambda s: tui.BODY_TEXT in s, 10)
    t.text("q")
    t.wait_all("the index again", tui.SUBJECTS, 10)
    t.text("q")
    check(t.wait_exit(15), "neomutt did not quit")
    ok = True
finally:
    if not ok:
        tui.dump_screen(t)
        # neomutt names its log neomutt.log0; show the IMAP exchange
        # ("4> " client, "4< " server) and any errors.
        path = debug_log + "0" if os.path.exists(debug_log + "0") else debug_log
        lines = [l for l in tui.tail(path, 100000).splitlines()
                 if "mutt_socket_" in l or "<E>" in l or "<M>" in l]
        print("---- neomutt debug log: IMAP exchange and errors (tail) ----")
        print("\n".join(lines[-80:]))
    if t is not None:
        t.kill()

print("neomutt: inbox and multipart passed")
