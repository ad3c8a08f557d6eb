"""Shared helpers for the tmux-driven terminal client tests (tui_*.py):
seeding the INBOX over plain IMAP on loopback and driving a client in a
private, detached tmux server with a fixed screen size.
"""
import base64
import imaplib
import os
import subprocess
import time

# What the client must show in its index: (sender display name, decoded subject).
SENDERS = ["Bob Builder", "Dieter Schmidt", "Erin Report"]
SUBJECTS = ["Lunch on Friday", "Grüße aus Berlin", "Monthly report attached"]
BODY_TEXT = "Hello from the multipart body"
ATTACHMENT = "report.pdf"

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


def index_ok(screen):
    """Every subject is on a line together with its own sender."""
    lines = screen.splitlines()
    return all(any(sender in l and subject in l for l in lines)
               for sender, subject in zip(SENDERS, SUBJECTS))


def messages():
    """Three messages, oldest first: two plain ones (the second with an RFC
    2047 encoded-word subject) and a multipart/mixed one with a PDF."""
    plain1 = ("From: Bob Builder <bob@example.org>\r\n"
              "To: Alice <alice@localhost>\r\n"
              "Subject: Lunch on Friday\r\n"
              "Date: Mon, 03 Mar 2025 09:00:00 +0000\r\n"
              "Message-ID: <tui-1@example.org>\r\n"
              "MIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=us-ascii\r\n"
              "\r\n"
              "Shall we meet at noon?\r\n")
    plain2 = ("From: Dieter Schmidt <dieter@example.de>\r\n"
              "To: Alice <alice@localhost>\r\n"
              "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_Berlin?=\r\n"
              "Date: Tue, 04 Mar 2025 10:00:00 +0100\r\n"
              "Message-ID: <tui-2@example.de>\r\n"
              "MIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=utf-8\r\n"
              "Content-Transfer-Encoding: 8bit\r\n"
              "\r\n"
              "Viele Gr\u00fc\u00dfe!\r\n")
    pdf = base64.encodebytes(PDF).decode().replace("\n", "\r\n")
    multi = ("From: Erin Report <erin@example.com>\r\n"
             "To: Alice <alice@localhost>\r\n"
             "Subject: Monthly report attached\r\n"
             "Date: Wed, 05 Mar 2025 11:00:00 +0000\r\n"
             "Message-ID: <tui-3@example.com>\r\n"
             "MIME-Version: 1.0\r\n"
             'Content-Type: multipart/mixed; boundary="=-tui-boundary-42"\r\n'
             "\r\n"
             "This is a multi-part message in MIME format.\r\n"
             "\r\n"
             "--=-tui-boundary-42\r\n"
             "Content-Type: text/plain; charset=us-ascii\r\n"
             "Content-Transfer-Encoding: 7bit\r\n"
             "\r\n"
             f"{BODY_TEXT}\r\n"
             "See the attached report.\r\n"
             "\r\n"
             "--=-tui-boundary-42\r\n"
             f'Content-Type: application/pdf; name="{ATTACHMENT}"\r\n'
             f'Content-Disposition: attachment; filename="{ATTACHMENT}"\r\n'
             "Content-Transfer-Encoding: base64\r\n"
             "\r\n"
             f"{pdf}"
             "--=-tui-boundary-42--\r\n")
    return [plain1.encode(), plain2.encode("utf-8"), multi.encode()]


def seed(port):
    """Appends the three messages to alice's INBOX over plain IMAP."""
    m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    try:
        m.login("alice", "pass")
        for i, msg in enumerate(messages()):
            date = imaplib.Time2Internaldate(1741000000 + i * 86400)
            typ, data = m.append("INBOX", None, date, msg)
            check(typ == "OK", f"APPEND {i + 1}: {typ} {data}")
        typ, data = m.select("INBOX")
        check(typ == "OK" and int(data[0]) == 3, f"INBOX should hold 3 messages: {data}")
        m.logout()
    finally:
        try:
            m.shutdown()
        except Exception:
            pass


class Tmux:
    """A private tmux server (its own socket in WORKDIR) running one detached
    session of `cmd` with a fixed size. Every wait is bounded."""

    def __init__(self, work, name, cmd, env, width=200, height=50):
        self.sock = os.path.join(work, "tmux.sock")
        # Every screen a wait accepted, for reading after a run.
        self.log = os.path.join(work, "screens.txt")
        self.name = name
        self.screen = ""
        self.env = env
        # -f /dev/null: no user tmux config; -u: UTF-8 regardless of locale.
        self.tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), cmd)

    def tmux(self, *args, check_rc=True):
        r = subprocess.run(["tmux", "-u", "-f", "/dev/null", "-S", self.sock, *args],
                           capture_output=True, timeout=20, env=self.env,
                           stdin=subprocess.DEVNULL)
        if check_rc and r.returncode != 0:
            raise SystemExit(f"FAIL: tmux {' '.join(args)}: {r.stderr.decode(errors='replace')}")
        return r.stdout.decode("utf-8", errors="replace")

    def capture(self):
        out = self.tmux("capture-pane", "-p", "-t", self.name, check_rc=False)
        if out:
            self.screen = out
        return self.screen

    def keys(self, *keys):
        """send-keys: each argument is a tmux key name (Enter, Escape, C-g...)."""
        self.tmux("send-keys", "-t", self.name, *keys)

    def text(self, s):
        """Types `s` literally."""
        self.tmux("send-keys", "-t", self.name, "-l", s)

    # Fail at once (rather than time out) when the screen shows one of these.
    errors = ()

    def wait_for(self, what, cond, seconds=30):
        """Polls the screen until cond(screen) holds; fails (printing the
        screen) after `seconds`, or as soon as it shows one of `errors`."""
        deadline = time.monotonic() + seconds
        while True:
            screen = self.capture()
            if cond(screen):
                with open(self.log, "a", encoding="utf-8") as f:
                    f.write(f"==== {what}\n{screen.rstrip()}\n")
                return screen
            bad = [e for e in self.errors if e in screen]
            if bad:
                raise SystemExit(f"FAIL: waiting for {what}, the client showed {bad[0]!r}")
            if time.monotonic() > deadline:
                raise SystemExit(f"FAIL: timed out after {seconds} s waiting for {what}")
            time.sleep(0.25)

    def wait_all(self, what, needles, seconds=30):
        """Waits until the screen shows every one of `needles`."""
        return self.wait_for(what, lambda s: all(n in s for n in needles), seconds)

    def alive(self):
        r = subprocess.run(["tmux", "-f", "/dev/null", "-S", self.sock, "has-session", "-t", self.name],
                           capture_output=True, timeout=20, env=self.env, stdin=subprocess.DEVNULL)
        return r.returncode == 0

    def wait_exit(self, seconds=15):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.alive():
                return True
            time.sleep(0.2)
        return False

    def kill(self):
        subprocess.run(["tmux", "-f", "/dev/null", "-S", self.sock, "kill-server"],
                       capture_output=True, timeout=20, env=self.env, stdin=subprocess.DEVNULL)


def dump_screen(t):
    print("---- last screen ----")
    print(t.screen if t is not None else "(no tmux session)")
    print("---------------------")


def tail(path, lines=80):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace").splitlines()
    except OSError as e:
        return f"({path}: {e})"
    return "\n".join(text[-lines:])
