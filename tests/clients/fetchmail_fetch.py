#!/usr/bin/env python3
"""fetchmail over IMAPS (verifying the generated certificate): with `keep`
messages are downloaded and stay on the server marked \\Seen (a second run
finds no new mail); without `keep` (and with `fetchall`) every message is
downloaded and then deleted on the server (\\Deleted + EXPUNGE).
With `idle` it downloads new mail pushed by IMAP IDLE.

The server has no SEARCH yet: fetchmail's `SEARCH UNSEEN` gets BAD and it
falls back to `FETCH 1:n FLAGS` by itself, so no option is needed for that.

Usage: fetchmail_fetch.py TLS_PORT PLAIN_PORT CAFILE WORKDIR
"""
import imaplib
import os
import subprocess
import sys
import time

tls_port, port, cafile, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
env = dict(os.environ, FETCHMAILHOME=work, HOME=work)


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


def fetchmail(name, options, out):
    rc = os.path.join(work, f"{name}.rc")
    with open(rc, "w") as f:
        f.write(f'poll localhost service {tls_port} protocol IMAP\n'
                f'  user "alice" password "pass" is "alice" here\n'
                f'  ssl sslcertck sslcertfile "{cafile}"\n'
                f'  {options} mda "cat >> {out}"\n')
    os.chmod(rc, 0o600)
    r = subprocess.run(fetchmail_cmd(rc), capture_output=True, text=True, timeout=120,
                       env=env, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout + r.stderr


def fetchmail_cmd(rc):
    return ["fetchmail", "-f", rc, "-i", os.path.join(work, "fetchids"),
            "--nodetach", "--nosyslog", "-v", "-v"]


def wait_for(cond, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def delivered(out):
    if not os.path.exists(out):
        return []
    return [l for l in open(out, "rb").read().decode().splitlines() if l.startswith("Subject: ")]


def imap():
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login("alice", "pass")
    return m


def server_state(m):
    typ, data = m.select("INBOX")
    n = int(data[0])
    if n == 0:
        return []
    typ, data = m.fetch("1:*", "(FLAGS)")
    return [d.decode() for d in data]


m = imap()
for i in range(3):
    m.append("INBOX", None, None,
             f"From: a@b\r\nTo: alice@localhost\r\nSubject: s{i}\r\n\r\nbody {i}\r\n".encode())

# 1. keep: all three downloaded, left on the server as \Seen.
out1 = os.path.join(work, "keep.mbox")
code, log = fetchmail("keep", "keep", out1)
check(code == 0, f"fetchmail keep failed ({code}):\n{log}")
check(sorted(delivered(out1)) == ["Subject: s0", "Subject: s1", "Subject: s2"],
      f"keep delivered {delivered(out1)}:\n{log}")
check(b"body 1" in open(out1, "rb").read(), "message bodies delivered")
state = server_state(m)
check(len(state) == 3 and all("\\Seen" in s and "\\Deleted" not in s for s in state),
      f"kept messages are \\Seen on the server: {state}")

# 2. keep again: nothing new (exit status 1 = no mail).
code, log = fetchmail("keep", "keep", out1)
check(code == 1, f"second keep run should find no new mail ({code}):\n{log}")
check(len(delivered(out1)) == 3, f"nothing delivered twice: {delivered(out1)}")

# 3. no keep, fetchall: every message (seen or not) downloaded, then
#    deleted on the server.
m.append("INBOX", None, None, b"From: a@b\r\nTo: alice@localhost\r\nSubject: s3\r\n\r\nbody 3\r\n")
out2 = os.path.join(work, "flush.mbox")
code, log = fetchmail("flush", "fetchall", out2)
check(code == 0, f"fetchmail without keep failed ({code}):\n{log}")
check(sorted(delivered(out2)) == ["Subject: s0", "Subject: s1", "Subject: s2", "Subject: s3"],
      f"fetchall delivered {delivered(out2)}:\n{log}")
check("+FLAGS (\\Seen \\Deleted)" in log and "EXPUNGE" in log, f"deleted on the server:\n{log}")
state = server_state(m)
check(state == [], f"server INBOX empty after fetch without keep: {state}")

# 4. idle: fetchmail waits in IMAP IDLE and downloads a message as soon as
#    it arrives.
out3 = os.path.join(work, "idle.mbox")
rc = os.path.join(work, "idle.rc")
with open(rc, "w") as f:
    f.write(f'poll localhost service {tls_port} protocol IMAP\n'
            f'  user "alice" password "pass" is "alice" here\n'
            f'  ssl sslcertck sslcertfile "{cafile}"\n'
            f'  idle keep mda "cat >> {out3}"\n')
os.chmod(rc, 0o600)
idle_log = os.path.join(work, "idle.log")
with open(idle_log, "w") as logf:
    p = subprocess.Popen(fetchmail_cmd(rc), stdout=logf, stderr=subprocess.STDOUT, env=env,
                         stdin=subprocess.DEVNULL)
try:
    idling = wait_for(lambda: "IMAP< + " in open(idle_log).read(), 30)
    check(idling, f"fetchmail entered IDLE:\n{open(idle_log).read()}")
    m.append("INBOX", None, None, b"From: a@b\r\nTo: alice@localhost\r\nSubject: s4\r\n\r\nbody 4\r\n")
    got = wait_for(lambda: delivered(out3) == ["Subject: s4"], 30)
    check(got, f"message delivered during IDLE: {delivered(out3)}\n{open(idle_log).read()}")
finally:
    p.kill()
    p.wait(timeout=30)
m.logout()
print("fetchmail: keep, delete and idle passed")
