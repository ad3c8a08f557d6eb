#!/usr/bin/env python3
"""IMAP through nginx's mail proxy (auth_http against tidemark's /auth).

Usage: nginx_proxy.py NGINX_PORT MESSAGE_FILE
Python's imaplib talks to nginx only: LOGIN alice (nginx asks /auth, then
logs in to the tidemark backend), SELECT INBOX, FETCH 1 BODY.PEEK[] must
equal MESSAGE_FILE byte for byte; LOGIN carol with a password containing
a space and a percent sign (nginx URL-encodes it for /auth); a wrong
password is refused with the text /auth gave.
"""
import imaplib
import socket
import sys

port, message_file = int(sys.argv[1]), sys.argv[2]
expected = open(message_file, "rb").read()
socket.setdefaulttimeout(20)


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


m = imaplib.IMAP4("127.0.0.1", port)
typ, _ = m.login("alice", "pass")
check(typ == "OK", "alice LOGIN through nginx")
typ, data = m.select("INBOX")
check(typ == "OK" and data[0] == b"1", f"SELECT INBOX: {typ} {data}")
typ, data = m.fetch("1", "(BODY.PEEK[])")
check(typ == "OK", f"FETCH: {typ}")
body = data[0][1]
check(body == expected, f"FETCH bytes differ: {body!r} != {expected!r}")
m.logout()
print("fetched", len(body), "bytes through nginx")

m = imaplib.IMAP4("127.0.0.1", port)
typ, _ = m.login("carol", "sp ace%41")
check(typ == "OK", "carol LOGIN (escaped password)")
m.logout()

m = imaplib.IMAP4("127.0.0.1", port)
try:
    m.login("alice", "wrong")
    raise SystemExit("FAIL: a wrong password was accepted through nginx")
except imaplib.IMAP4.error as e:
    check("Invalid login or password" in str(e), f"refusal text: {e}")
    print("wrong password refused:", e)
try:
    m.logout()
except Exception:
    pass
print("NGINX-PROXY-OK")
