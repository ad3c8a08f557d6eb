#!/usr/bin/env python3
"""XOAUTH2 with Python's imaplib (its authenticate() with a callback).

Usage: xoauth2_imaplib.py PORT TOKEN  (TOKEN: a valid access token for alice)
"""
import imaplib
import sys

port, token = int(sys.argv[1]), sys.argv[2]
m = imaplib.IMAP4("127.0.0.1", port)
typ, _ = m.authenticate("XOAUTH2", lambda _: f"user=alice\x01auth=Bearer {token}\x01\x01".encode())
assert typ == "OK", typ
typ, data = m.select("INBOX")
assert typ == "OK", data
m.logout()
m2 = imaplib.IMAP4("127.0.0.1", port)
try:
    m2.authenticate("XOAUTH2", lambda _: f"user=bob\x01auth=Bearer {token}\x01\x01".encode())
    raise SystemExit("FAIL: a token for alice was accepted as bob")
except imaplib.IMAP4.error as e:
    assert "AUTHENTICATIONFAILED" in str(e), e
print("xoauth2 ok")
