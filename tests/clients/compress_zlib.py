#!/usr/bin/env python3
"""COMPRESS=DEFLATE (RFC 4978) with Python's zlib as the client's inflater.

Usage: compress_zlib.py PORT TLS_PORT CAFILE
Appends 1,000 text messages, FETCHes them all with and without compression over
TLS, checks the inflated answer equals the plain one, and prints the bytes on
the wire for both. Also: commands pipelined right behind COMPRESS (already
compressed), COMPRESS twice, and COMPRESS on a plain loopback connection.
"""
import random
import socket
import ssl
import sys
import zlib

port, tls_port, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(20)
        self.buf = b""
        self.wire_in = 0
        self.deflate = None
        self.inflate = None

    def start_compression(self):
        self.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflate = zlib.decompressobj(-15)

    def send(self, data, extra=b""):
        if self.deflate:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data + extra)

    def fill(self):
        chunk = self.sock.recv(65536)
        check(chunk, "server closed the connection")
        self.wire_in += len(chunk)
        self.buf += self.inflate.decompress(chunk) if self.inflate else chunk

    def until_tagged(self, tag):
        """Everything up to and including the tagged line for `tag`."""
        marker = f"\r\n{tag} ".encode()
        start = f"{tag} ".encode()
        for _ in range(100000):
            i = self.buf.find(marker)
            if self.buf.startswith(start):
                i = -2
            if i != -1:
                end = self.buf.find(b"\r\n", i + 2)
                if end != -1:
                    out, self.buf = self.buf[: end + 2], self.buf[end + 2 :]
                    return out
            self.fill()
        raise SystemExit(f"FAIL: no tagged answer for {tag}")

    def cmd(self, tag, text):
        self.send(f"{tag} {text}\r\n".encode())
        return self.until_tagged(tag)


def tls_conn():
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", tls_port))
    return Conn(ctx.wrap_socket(raw, server_hostname="localhost"))


WORDS = ("the of and to a in is you that it he was for on are as with his they at be this "
         "have from or one had by word but not what all were we when your can said there use an "
         "each which she do how their if will up other about out many then them these so some her "
         "would make like him into time has look two more write go see number no way could people "
         "meeting report budget quarter project deadline review schedule customer invoice").split()


def message(i, rng):
    lines = [f"From: sender{i % 37}@example.org", "To: alice@example.com",
             f"Subject: status update {i}", f"Message-ID: <m{i}@example.org>",
             "Date: Thu, 26 Nov 2026 10:00:00 +0000", "Content-Type: text/plain; charset=utf-8", ""]
    for _ in range(rng.randint(15, 40)):
        lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14))))
    return ("\r\n".join(lines) + "\r\n").encode()


c = tls_conn()
greeting = c.sock.recv(4096)
check(greeting.startswith(b"* OK"), f"greeting {greeting!r}")
r = c.cmd("a1", "LOGIN alice pass")
check(b"a1 OK" in r and b"COMPRESS=DEFLATE" in r, f"login {r!r}")
rng = random.Random(7)
for batch in range(10):
    parts = []
    for i in range(batch * 100, batch * 100 + 100):
        m = message(i, rng)
        parts.append(b" {%d+}\r\n" % len(m) + m)
    c.send(b"ap%d APPEND INBOX" % batch + b"".join(parts) + b"\r\n")
    r = c.until_tagged(f"ap{batch}")
    check(f"ap{batch} OK".encode() in r, f"append {r[-200:]!r}")
r = c.cmd("a2", "SELECT INBOX")
check(b"* 1000 EXISTS" in r, f"select {r!r}")

before = c.wire_in
plain = c.cmd("a3", "FETCH 1:1000 (BODY.PEEK[])")
plain_wire = c.wire_in - before
check(plain.count(b" FETCH (") == 1000, "1000 FETCH responses")

# COMPRESS, with the next command already compressed in the same write.
c.sock.sendall(b"a4 COMPRESS DEFLATE\r\n")
r = c.until_tagged("a4")
check(r.startswith(b"a4 OK"), f"compress {r!r}")
c.start_compression()
r = c.cmd("a5", "NOOP")
check(r.endswith(b"a5 OK NOOP completed\r\n"), f"noop {r!r}")
r = c.cmd("a6", "COMPRESS DEFLATE")
check(b"a6 NO [COMPRESSIONACTIVE]" in r, f"compress twice {r!r}")

before = c.wire_in
packed = c.cmd("a7", "FETCH 1:1000 (BODY.PEEK[])")
packed_wire = c.wire_in - before
check(packed.replace(b"a7 OK", b"a3 OK") == plain, "inflated FETCH equals the plain one")
r = c.cmd("a8", "LOGOUT")
check(b"* BYE" in r, f"logout {r!r}")
print(f"compress: FETCH 1:1000 (BODY.PEEK[]) = {len(plain)} bytes: {plain_wire} read inside TLS "
      f"without COMPRESS, {packed_wire} with COMPRESS=DEFLATE "
      f"({packed_wire / plain_wire:.3f}x, {100 - 100 * packed_wire / plain_wire:.1f}% saved)")

# Plain loopback connection: COMPRESS, then a command pipelined behind it.
s = socket.create_connection(("127.0.0.1", port))
p = Conn(s)
check(s.recv(4096).startswith(b"* OK"), "greeting")
check(b"b1 OK" in p.cmd("b1", "LOGIN alice pass"), "login")
z = zlib.compressobj(6, zlib.DEFLATED, -15)
early = z.compress(b"b3 STATUS INBOX (MESSAGES)\r\n") + z.flush(zlib.Z_SYNC_FLUSH)
p.sock.sendall(b"b2 COMPRESS DEFLATE\r\n" + early)
check(p.until_tagged("b2").startswith(b"b2 OK"), "compress on plain")
p.deflate, p.inflate = z, zlib.decompressobj(-15)
r = p.until_tagged("b3")
check(b"MESSAGES 1000" in r and b"b3 OK" in r, f"pipelined status {r!r}")
check(b"b4 BAD" in p.cmd("b4", "STARTTLS"), "STARTTLS after COMPRESS refused")
check(b"* BYE" in p.cmd("b5", "LOGOUT"), "logout")
print("compress checks passed")
