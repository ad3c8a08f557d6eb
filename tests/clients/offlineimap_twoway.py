#!/usr/bin/env python3
"""Two-way sync with offlineimap over IMAPS: new mail, flag changes and
deletions on either side reach the other.

Usage: offlineimap_twoway.py TLS_PORT PLAIN_PORT CAFILE WORKDIR
"""
import os
import subprocess
import sys

import twoway
from twoway import check

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


twoway.run("offlineimap", offlineimap, local, port)
