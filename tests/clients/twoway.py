"""The two-way sync scenario shared by the Maildir sync clients (mbsync,
offlineimap): new mail, flag changes and deletions on either side must
reach the other, and a further run must change nothing.

`run(name, sync, local, port)`: `sync()` runs the client once (and fails
loudly itself), `local` is the client's Maildir root, `port` the server's
plain IMAP port on 127.0.0.1 (loopback: LOGIN allowed).
"""
import glob
import imaplib
import os


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


def imap(port):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login("alice", "pass")
    return m


def server_flags(m):
    """Subject -> the FETCH line with FLAGS, for every INBOX message."""
    m.select("INBOX")
    typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out = {}
    for item in data:
        if isinstance(item, tuple):
            subject = item[1].decode().strip().split(": ", 1)[1]
            out[subject] = item[0].decode()
    return out


def run(name, sync, local, port):
    def local_files():
        return sorted(glob.glob(os.path.join(local, "INBOX", "cur", "*")) +
                      glob.glob(os.path.join(local, "INBOX", "new", "*")))

    def local_by_subject():
        out = {}
        for p in local_files():
            for line in open(p, "rb").read().split(b"\n"):
                if line.startswith(b"Subject: "):
                    out[line[9:].strip().decode()] = p
        return out

    m = imap(port)
    for i in range(3):
        m.append("INBOX", None, None, f"From: a@b\r\nSubject: s{i}\r\n\r\nbody {i}\r\n".encode())
    m.logout()

    # 1. Server mail reaches the Maildir; Maildir mail reaches the server.
    sync()
    check(len(local_files()) == 3, f"3 messages pulled, got {local_files()}")
    os.makedirs(os.path.join(local, "INBOX", "cur"), exist_ok=True)
    with open(os.path.join(local, "INBOX", "cur", "1700000000.1_1.host:2,S"), "wb") as f:
        f.write(b"From: me@b\r\nSubject: local1\r\n\r\nfrom the local side\r\n")
    sync()
    m = imap(port)
    flags = server_flags(m)
    check(len(flags) == 4, f"4 messages on the server: {flags}")
    check("local1" in flags and "\\Seen" in flags["local1"], f"local mail pushed with \\Seen: {flags}")

    # 2. Local: flag s0, delete s1. Server: \Answered on s2, delete local1.
    byname = local_by_subject()
    check(set(byname) == {"s0", "s1", "s2", "local1"}, f"local subjects: {sorted(byname)}")
    base, _, fl = byname["s0"].partition(":2,")
    os.rename(byname["s0"], base + ":2," + "".join(sorted(set(fl + "F"))))
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
    sync()

    m = imap(port)
    flags = server_flags(m)
    check("s1" not in flags, f"local deletion reached the server: {flags}")
    check("\\Flagged" in flags.get("s0", ""), f"local flag reached the server: {flags}")
    byname = local_by_subject()
    check("local1" not in byname, f"server deletion reached the local side: {sorted(byname)}")
    check(set(byname) == {"s0", "s2"}, f"local subjects after sync: {sorted(byname)}")
    check("R" in byname["s2"].rpartition(":2,")[2], f"server flag reached the local side: {byname['s2']}")

    # 3. A further run is a no-op on both sides.
    before = (sorted(flags.items()), sorted(byname))
    sync()
    after = (sorted(server_flags(m).items()), sorted(local_by_subject()))
    check(before == after, f"idempotent sync: {before} vs {after}")
    m.logout()
    print(f"{name}: two-way sync passed")
