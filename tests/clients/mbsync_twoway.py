#!/usr/bin/env python3
"""Two-way sync with mbsync (isync): new mail, flag changes and deletions on
either side reach the other.

Usage: mbsync_twoway.py TLS_PORT PLAIN_PORT CAFILE WORKDIR
"""
import os
import subprocess
import sys

import twoway
from twoway import check

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


def mbsync():
    r = subprocess.run(["mbsync", "-c", cfg, "-a"], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"mbsync failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


twoway.run("mbsync", mbsync, local, port)
