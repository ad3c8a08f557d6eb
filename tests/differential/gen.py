#!/usr/bin/env python3
"""Deterministic generator of a varied mailbox and of SEARCH/SORT/THREAD
queries for the differential test against Dovecot (see run.py).

Python 3.11 standard library only. Everything is derived from one seed, so
the same seed gives byte-identical messages and queries on every machine.

    gen.py [--seed N] [--messages N] [--queries N] [--dump DIR]

With --dump the messages are written as DIR/NNNN.eml (plus DIR/meta.json with
flags and internal dates) and the queries as DIR/queries.txt, for reading by
hand; run.py imports this module instead.

The mailbox: plain and non-MIME messages, multipart/mixed and /alternative,
nested message/rfc822, 7bit/8bit/quoted-printable/base64 bodies in utf-8,
iso-8859-1, windows-1252 and koi8-r, RFC 2047 encoded words (Q and B) in
subjects and display names, German/French/Greek/Cyrillic/CJK text, Date
headers in many zones (some missing, obsolete or malformed), threads
(Message-ID/References/In-Reply-To chains, Re:/Fwd:/[list] subjects,
duplicated ids, missing parents), sizes from a few hundred bytes to ~200 KB,
flags and keywords (some set on APPEND, some by STORE afterwards) and explicit
INTERNALDATEs.

Queries: random criteria trees (depth <= 3) with OR, NOT and implicit AND over
every RFC 9051 search key except RECENT/NEW/OLD (IMAP4rev2 dropped \\Recent),
with substrings taken from the vocabulary and from the generated headers
(non-ASCII, mixed case, across word boundaries); SORT with random criteria
lists (RFC 5256 + RFC 5957 DISPLAYFROM/DISPLAYTO); THREAD ORDEREDSUBJECT and
REFERENCES over random criteria.
"""
import argparse
import base64
import datetime
import json
import os
import quopri
import random

SEED = 9051
N_MESSAGES = 2000
N_SEARCH = 320
N_SORT = 70
N_THREAD = 50

# ---------------------------------------------------------------------------
# Vocabulary: small on purpose, so that substring queries actually hit.

ASCII_WORDS = [
    "invoice", "meeting", "report", "budget", "release", "deploy", "server",
    "tide", "mark", "lunch", "coffee", "project", "weekly", "status",
    "urgent", "review", "patch", "kernel", "garden", "river", "mountain",
    "quarterly", "summary", "schedule", "holiday", "party", "ticket", "backup",
    "Alpha", "Beta", "gamma", "DELTA", "newsletter", "offer", "password",
    "reset", "shipping", "order", "receipt", "agenda",
]
DE_WORDS = ["Straße", "Grüße", "Müller", "Fußball", "Ärger", "Übersicht",
            "Größe", "schön", "Bücher", "Maß", "STRASSE", "Köln"]
FR_WORDS = ["café", "crème", "naïve", "élève", "garçon", "Noël", "façade"]
CP1252_EXTRA = ["€", "“quoted”", "…", "–", "Œuvre", "™"]
EL_WORDS = ["Ελληνικά", "καλημέρα", "ΚΑΛΗΜΈΡΑ", "θάλασσα", "Σοφία", "λόγος",
            "ΣΟΦΊΑ", "ὀδυσσεύς"]
RU_WORDS = ["Привет", "мир", "Москва", "ПРИВЕТ", "счёт", "отчёт", "ёлка",
            "Ёлка", "встреча"]
CJK_WORDS = ["日本語", "東京", "会議", "報告書", "中文", "你好", "한국어", "회의"]

LANG_WORDS = {
    "en": ASCII_WORDS,
    "de": ASCII_WORDS[:10] + DE_WORDS,
    "fr": ASCII_WORDS[:10] + FR_WORDS,
    "cp": ASCII_WORDS[:10] + DE_WORDS + FR_WORDS + CP1252_EXTRA,
    "el": ASCII_WORDS[:8] + EL_WORDS,
    "ru": ASCII_WORDS[:8] + RU_WORDS,
    "cjk": ASCII_WORDS[:8] + CJK_WORDS,
    "mix": ASCII_WORDS + DE_WORDS + FR_WORDS + EL_WORDS + RU_WORDS + CJK_WORDS,
}
# Charsets a language can be written in (besides utf-8).
LANG_CHARSETS = {
    "en": ["us-ascii", "utf-8", "iso-8859-1"],
    "de": ["utf-8", "iso-8859-1", "windows-1252"],
    "fr": ["utf-8", "iso-8859-1", "windows-1252"],
    "cp": ["windows-1252", "utf-8"],
    "el": ["utf-8"],
    "ru": ["utf-8", "koi8-r"],
    "cjk": ["utf-8"],
    "mix": ["utf-8"],
}

PEOPLE = [
    ("Alice Anderson", "alice", "example.com"),
    ("Bob Brown", "bob", "example.org"),
    ("Carol Clark", "carol.clark", "tide.test"),
    ("Dave O'Neil", "dave", "mail.example.net"),
    ("Eve Evans", "eve", "example.com"),
    ("Jürgen Groß", "juergen.gross", "example.de"),
    ("François Müller", "francois", "example.fr"),
    ("Zoë Ærøskøbing", "zoe", "example.dk"),
    ("Δημήτρης Παπαδόπουλος", "dimitris", "example.gr"),
    ("Иван Петров", "ivan", "example.ru"),
    ("山田太郎", "yamada", "example.jp"),
    ("Mallory Mail-Admin", "postmaster", "tide.test"),
    ("", "noreply", "notifications.example.com"),
    ("Invoice Department", "billing", "shop.example"),
    ("Trent Tester", "TRENT", "Example.COM"),
]
LISTS = ["tide-dev", "announce", "garden-club"]
KEYWORDS = ["$Forwarded", "$Junk", "$NotJunk", "work", "personal", "todo",
            "$label1", "Later"]
SYSTEM_FLAGS = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]
HEADER_NAMES = ["X-Mailer", "X-Priority", "List-Id", "X-Tag", "Message-ID",
                "In-Reply-To", "References", "Content-Type", "Reply-To",
                "X-Original-To", "Organization"]
MAILERS = ["Mutt/2.2.9", "Thunderbird 115.3", "Tidemark Generator 1.0",
           "Microsoft Outlook 16.0", "Apple Mail (2.3731)"]
ZONES = ["+0000", "+0100", "+0200", "-0500", "-0800", "+0530", "+0900",
         "-0330", "+1300", "-1100", "-0000"]
OBS_ZONES = ["GMT", "UT", "EST", "PDT", "CET", "Z"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

EPOCH = datetime.datetime(2023, 11, 1, tzinfo=datetime.timezone.utc)
SPAN_DAYS = 120


# ---------------------------------------------------------------------------
# Encoding helpers (all produce str with "\n" line ends; the message is
# converted to CRLF at the end).

# Notes about the message being generated (e.g. "split-ew"): reset per
# message by gen_messages and kept in its facts.
NOTES = set()
# Raw header blocks of the nested messages of the message being generated.
NESTED_HEADERS = []


def encodable(text, charset):
    try:
        text.encode(charset)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def q_word(text, charset):
    out = []
    for b in text.encode(charset):
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isascii() and c.isalnum():
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "".join(out)


def encoded_words(text, charset, enc, rng):
    """RFC 2047 encoded words for `text`, split into chunks (sometimes in
    the middle of a multi-byte character, as some mailers do)."""
    words = []
    chunk_chars = rng.choice([8, 14, 30, 60])
    if enc == "B" and rng.random() < 0.06 and charset == "utf-8":
        # split the byte sequence at arbitrary byte offsets (RFC 2047 5 (3)
        # forbids splitting a character; some mailers do it anyway)
        raw = text.encode("utf-8")
        step = rng.choice([5, 7, 11])
        if any(b >= 0x80 for b in raw):
            NOTES.add("split-ew")
        for i in range(0, len(raw), step):
            words.append("=?utf-8?B?%s?=" % base64.b64encode(raw[i:i + step]).decode())
        return words
    for i in range(0, len(text), chunk_chars):
        part = text[i:i + chunk_chars]
        if enc == "Q":
            words.append("=?%s?Q?%s?=" % (charset, q_word(part, charset)))
        else:
            words.append("=?%s?B?%s?=" % (charset, base64.b64encode(part.encode(charset)).decode()))
    return words


def header_text(text, rng, allow_raw=True, field=None):
    """A header value for unstructured text: plain ASCII when possible,
    otherwise encoded words (Q or B, various charsets) or raw UTF-8."""
    if text.isascii():
        if rng.random() < 0.08 and len(text) > 12:
            # an encoded word for pure ASCII text, mixed with plain text
            cut = text.index(" ") if " " in text else len(text) // 2
            return "=?us-ascii?Q?%s?= %s" % (q_word(text[:cut], "ascii"), text[cut:].lstrip())
        return text
    r = rng.random()
    if allow_raw and r < 0.12:
        return text  # raw UTF-8 (RFC 6532 style)
    charsets = [c for c in ["utf-8", "iso-8859-1", "windows-1252", "koi8-r"]
                if encodable(text, c)]
    charset = rng.choice(charsets)
    enc = rng.choice("QB")
    # sometimes keep a leading ASCII prefix unencoded ("Re: =?..?=")
    prefix = ""
    m = 0
    while m < len(text) and text[m].isascii():
        m += 1
    if 0 < m < len(text) and text[m - 1] == " " and rng.random() < 0.6:
        prefix, text = text[:m], text[m:]
    sep = rng.choice([" ", "\n ", "\n\t"]) if rng.random() < 0.5 else " "
    if prefix and rng.random() < 0.2:
        prefix = prefix + "\n\t"   # "Re: \n\t=?...?=": a tab after unfolding
        NOTES.add("tab-fold")
        NOTES.add("fold-tab-ew:%s" % field)
    return prefix + sep.join(encoded_words(text, charset, enc, rng))


def display_name(name, rng):
    if not name:
        return ""
    if name.isascii():
        if "'" in name or rng.random() < 0.3:
            return '"%s"' % name
        return name
    r = rng.random()
    if r < 0.15:
        return '"%s"' % name  # raw UTF-8 in a quoted string
    charsets = [c for c in ["utf-8", "iso-8859-1", "koi8-r"] if encodable(name, c)]
    charset = rng.choice(charsets)
    return " ".join(encoded_words(name, charset, rng.choice("QB"), rng))


def address(person, rng):
    name, local, domain = person
    addr = "%s@%s" % (local, domain)
    if name and " " in name and name.isascii() and rng.random() < 0.03:
        name = name.replace(" ", "  ", 1)   # FWS in a phrase: one space semantically
        NOTES.add("name-ws")
    dn = display_name(name, rng)
    form = rng.random()
    if not dn or form < 0.08:
        return addr if rng.random() < 0.7 else "<%s>" % addr
    if form < 0.12 and name.isascii():
        return "%s (%s)" % (addr, name)  # old comment form
    return "%s <%s>" % (dn, addr)


def address_list(rng, k):
    people = rng.sample(PEOPLE, k)
    return ", ".join(address(p, rng) for p in people), people


def fold_header(name, value, rng):
    """Folds long ASCII header values at spaces (with a space or a tab)."""
    line = "%s: %s" % (name, value)
    if len(line) < 78 or "\n" in value or rng.random() < 0.3:
        return line
    out, cur = [], ""
    for w in line.split(" "):
        if cur and len(cur) + 1 + len(w) > 76:
            out.append(cur)
            cur = rng.choice([" ", "\t"]) + w
            if cur[0] == "\t":
                NOTES.add("tab-fold")
        else:
            cur = cur + " " + w if cur else w
    out.append(cur)
    return "\n".join(out)


def sentence(rng, lang, n):
    words = LANG_WORDS[lang]
    out = []
    for _ in range(n):
        w = rng.choice(words)
        if rng.random() < 0.1:
            w = w.upper()
        elif rng.random() < 0.1:
            w = w.capitalize()
        out.append(w)
    s = " ".join(out)
    return s


def paragraph_text(rng, lang, n_words):
    words = []
    line = []
    lines = []
    for _ in range(n_words):
        w = rng.choice(LANG_WORDS[lang])
        if rng.random() < 0.05:
            w = w.upper()
        line.append(w)
        if len(" ".join(line)) > 60:
            lines.append(" ".join(line))
            line = []
        if rng.random() < 0.02:
            lines.append(" ".join(line))
            lines.append("")
            line = []
    if line:
        lines.append(" ".join(line))
    del words
    return "\n".join(lines) + "\n"


def encode_body(text, charset, cte):
    data = text.encode(charset)
    if cte == "base64":
        b = base64.encodebytes(data).decode("ascii")
        return b
    if cte == "quoted-printable":
        return quopri.encodestring(data).decode("ascii")
    return data.decode(charset)  # 7bit/8bit: written as is (converted below)


class Raw:
    """A message under construction: a list of str / bytes chunks."""

    def __init__(self):
        self.chunks = []

    def add(self, x):
        self.chunks.append(x)

    def bytes(self):
        out = []
        for c in self.chunks:
            if isinstance(c, str):
                c = c.encode("utf-8")
            out.append(c)
        return b"".join(out).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def text_part(rng, lang, n_words, subtype="plain", force_cte=None):
    """(headers str, body bytes) of a text/* leaf."""
    text = paragraph_text(rng, lang, n_words)
    if subtype == "html":
        text = "<html><body>\n<p>" + text.replace("\n\n", "</p>\n<p>") + "</p>\n</body></html>\n"
        if rng.random() < 0.3:
            text = text.replace(" ", " <b>", 1).replace(" ", "</b> ", 1)
    charset = rng.choice(LANG_CHARSETS[lang])
    if not encodable(text, charset):
        charset = "utf-8"
    if force_cte:
        cte = force_cte
    elif charset == "us-ascii" or text.isascii():
        cte = rng.choice(["7bit", "7bit", "quoted-printable", "base64", None])
    else:
        cte = rng.choice(["8bit", "quoted-printable", "quoted-printable", "base64"])
    hdr = "Content-Type: text/%s; charset=%s" % (
        subtype, rng.choice([charset, '"%s"' % charset, charset.upper()]))
    if rng.random() < 0.05:
        hdr += "; format=flowed"
    if cte:
        hdr += "\nContent-Transfer-Encoding: %s" % (cte if rng.random() < 0.8 else cte.upper())
    if cte in ("base64", "quoted-printable"):
        body = encode_body(text, charset, cte).encode("ascii")
    else:
        body = text.encode(charset)
    return hdr, body


def binary_blob(rng, size):
    return bytes(rng.getrandbits(8) for _ in range(size))


def attachment_part(rng, size):
    kind = rng.choice(["application/pdf", "image/png", "application/octet-stream",
                       "application/zip"])
    name = rng.choice(["report.pdf", "photo.png", "data.bin", "archive.zip",
                       "Übersicht.pdf", "invoice-2024.pdf"])
    if name.isascii():
        disp = 'attachment; filename="%s"' % name
    else:
        disp = "attachment; filename*=utf-8''%s" % "".join(
            "%%%02X" % b for b in name.encode("utf-8"))
    data = binary_blob(rng, size)
    # Sometimes hide a vocabulary word in the binary data (it is base64 on
    # the wire; a server must not find it with BODY).
    if rng.random() < 0.3:
        data = data[: size // 2] + b" invoice meeting " + data[size // 2:]
    hdr = "Content-Type: %s; name=\"%s\"\nContent-Disposition: %s\nContent-Transfer-Encoding: base64" % (
        kind, name if name.isascii() else "attachment", disp)
    return hdr, base64.encodebytes(data)


def boundary(rng):
    return "=_b%08x" % rng.getrandbits(32)


def build_entity(rng, depth, lang, big):
    """(content headers str, body bytes) for a random MIME entity."""
    r = rng.random()
    if depth >= 2 or r < 0.45:
        n = rng.randint(3, 120)
        if big:
            n = rng.randint(6000, 16000)
        return text_part(rng, lang, n, "plain")
    if r < 0.62:
        b = boundary(rng)
        h1, b1 = text_part(rng, lang, rng.randint(5, 80), "plain")
        h2, b2 = text_part(rng, lang, rng.randint(5, 80), "html")
        body = ("This is a multi-part message in MIME format.\n--%s\n%s\n\n" % (b, h1)).encode() + b1 + \
               ("\n--%s\n%s\n\n" % (b, h2)).encode() + b2 + ("\n--%s--\n" % b).encode()
        return "Content-Type: multipart/alternative; boundary=\"%s\"" % b, body
    if r < 0.85:
        b = boundary(rng)
        parts = [build_entity(rng, depth + 1, lang, False)]
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.6:
                size = rng.choice([200, 1500, 6000])
                if big:
                    size = rng.randint(40000, 140000)
                    big = False
                parts.append(attachment_part(rng, size))
            else:
                parts.append(text_part(rng, rng.choice(list(LANG_WORDS)), rng.randint(3, 40),
                                       rng.choice(["plain", "plain", "csv", "html"])))
        body = b"" if rng.random() < 0.5 else b"preamble text invoice\n"
        for h, pb in parts:
            body += ("--%s\n%s\n\n" % (b, h)).encode() + pb + b"\n"
        body += ("--%s--\n" % b).encode()
        if rng.random() < 0.3:
            body += b"epilogue garden\n"
        return "Content-Type: multipart/mixed; boundary=\"%s\"" % b, body
    # a forwarded message
    b = boundary(rng)
    h1, b1 = text_part(rng, lang, rng.randint(3, 30), "plain")
    inner = nested_message(rng, depth + 1)
    body = ("--%s\n%s\n\n" % (b, h1)).encode() + b1 + \
           ("\n--%s\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n" % b).encode() + \
           inner + ("\n--%s--\n" % b).encode()
    return "Content-Type: multipart/mixed; boundary=\"%s\"" % b, body


def nested_message(rng, depth):
    lang = rng.choice(list(LANG_WORDS))
    subj = sentence(rng, lang, rng.randint(2, 5))
    person = rng.choice(PEOPLE)
    to = rng.choice(PEOPLE)
    when = EPOCH - datetime.timedelta(days=rng.randint(1, 400), seconds=rng.randint(0, 86399))
    hdr = [
        "From: %s" % address(person, rng),
        "To: %s" % address(to, rng),
        "Subject: %s" % header_text("Nested " + subj, rng, field="nested"),
        "Date: %s" % when.strftime("%a, %d %b %Y %H:%M:%S +0000"),
        "Message-ID: <nested.%d@%s>" % (rng.getrandbits(30), person[2]),
        "X-Tag: nested-%s" % rng.choice(ASCII_WORDS),
        "MIME-Version: 1.0",
    ]
    ch, cb = build_entity(rng, depth + 1, lang, False)
    NESTED_HEADERS.append("\n".join(hdr) + "\n" + ch)
    return ("\n".join(hdr) + "\n" + ch + "\n\n").encode() + cb


# ---------------------------------------------------------------------------
# Dates

def fmt_date(dt, zone, rng):
    """RFC 5322 date in `zone` (±HHMM), with some variation."""
    sign = -1 if zone.startswith("-") else 1
    off = sign * (int(zone[1:3]) * 60 + int(zone[3:5]))
    local = dt.astimezone(datetime.timezone(datetime.timedelta(minutes=off)))
    day = str(local.day) if rng.random() < 0.5 else "%02d" % local.day
    s = "%s %s %d %02d:%02d" % (day, MONTHS[local.month - 1], local.year, local.hour, local.minute)
    if rng.random() < 0.9:
        s += ":%02d" % local.second
    s += " " + zone
    if rng.random() < 0.8:
        s = DAYS[local.weekday()] + ", " + s
    if rng.random() < 0.1:
        s += " (%s)" % rng.choice(["UTC", "CET", "EST", "comment"])
    return s


def date_header(dt, rng):
    """(header value or None, kind) for a Date header. Kinds: ok, obsolete
    (RFC 5322 4.3 forms: 2-digit year, named zone, lowercase month),
    missing, and malformed ones: empty, garbage, invalid-day, iso8601,
    year-10000, no-time."""
    r = rng.random()
    if r < 0.05:
        return None, "missing"
    if r < 0.09:
        return rng.choice([
            ("yesterday", "garbage"),
            ("32 Foo 2023 10:00:00 +0000", "garbage"),
            ("Tue, 30 Feb 2024 10:00:00 +0000", "invalid-day"),
            ("2024-01-05T10:00:00Z", "iso8601"),
            ("", "empty"),
            ("Mon, 1 Jan 10000 00:00:00 +0000", "year-10000"),
            ("%d %s %d" % (dt.day, MONTHS[dt.month - 1], dt.year), "no-time"),
        ])
    if r < 0.15:
        # obsolete forms: 2-digit year, named zones, lowercase month
        local = dt
        s = "%d %s %02d %02d:%02d:%02d %s" % (
            local.day, MONTHS[local.month - 1].lower() if rng.random() < 0.5 else MONTHS[local.month - 1],
            local.year % 100, local.hour, local.minute, local.second, rng.choice(OBS_ZONES))
        return s, "obsolete"
    return fmt_date(dt, rng.choice(ZONES), rng), "ok"


def internal_date(dt, rng):
    zone = rng.choice(ZONES[:-1])
    sign = -1 if zone.startswith("-") else 1
    off = sign * (int(zone[1:3]) * 60 + int(zone[3:5]))
    local = dt.astimezone(datetime.timezone(datetime.timedelta(minutes=off)))
    day = "%2d" % local.day if rng.random() < 0.5 else "%02d" % local.day
    return "%s-%s-%d %02d:%02d:%02d %s" % (day, MONTHS[local.month - 1], local.year,
                                          local.hour, local.minute, local.second, zone)


# ---------------------------------------------------------------------------
# The mailbox

def gen_messages(seed=SEED, n=N_MESSAGES):
    """A list of dicts: raw (bytes), flags (APPEND flags), store (flags set
    by STORE afterwards), internaldate (IMAP date-time string), and facts
    used by the query generator."""
    rng = random.Random(seed)
    msgs = []
    ids = []           # message ids already used (for replies / duplicates)
    threads = []       # (root subject, [ids], list name or None)
    for i in range(n):
        NOTES.clear()
        del NESTED_HEADERS[:]
        lang = rng.choices(list(LANG_WORDS), weights=[40, 12, 6, 5, 6, 8, 6, 6])[0]
        sender = rng.choice(PEOPLE)
        when = EPOCH + datetime.timedelta(seconds=rng.randint(0, SPAN_DAYS * 86400))
        # near midnight more often, so zones decide the day
        if rng.random() < 0.25:
            when = when.replace(hour=rng.choice([0, 23]), minute=rng.randint(0, 59))
        hdrs = []
        facts = {"subject": None, "from": sender, "to": [], "cc": [], "words": []}

        # --- threading
        subject = None
        refs = []
        irt = None
        listname = None
        r = rng.random()
        if threads and r < 0.45:
            root_subj, tids, listname = rng.choice(threads[-60:])
            parent = rng.choice(tids) if tids else None
            prefix = rng.choice(["Re: ", "Re: ", "RE: ", "re: ", "Re: Re: ", "Fwd: ", "Fw: ",
                                 "Re[2]: ", "Re:", "AW: ", "Re: [%s] " % (listname or "misc"), ""])
            subject = prefix + root_subj
            if rng.random() < 0.1:
                subject = root_subj + " (fwd)"
            if parent:
                style = rng.random()
                if style < 0.6:
                    refs = list(parent[1]) + [parent[0]]
                    irt = parent[0]
                elif style < 0.75:
                    refs = list(parent[1]) + [parent[0]]
                elif style < 0.85:
                    irt = parent[0]
                else:
                    # a missing parent: refer to an id that is not in the mailbox
                    ghost = "<ghost.%d@nowhere.example>" % rng.getrandbits(24)
                    refs = list(parent[1]) + [parent[0], ghost]
                    irt = ghost
                if len(refs) > 4 and rng.random() < 0.3:
                    refs = refs[:1] + refs[-2:]   # trimmed references
        else:
            base = sentence(rng, lang, rng.randint(1, 6))
            if rng.random() < 0.2:
                listname = rng.choice(LISTS)
                base = "[%s] %s" % (listname, base)
            subject = base
            tids = []
            threads.append((base, tids, listname))

        r = rng.random()
        if r < 0.04:
            mid = None                               # no Message-ID at all
        elif r < 0.07 and ids:
            mid = rng.choice(ids)                    # duplicated Message-ID
        else:
            mid = "<%d.%08x@%s>" % (i, rng.getrandbits(32), sender[2].lower())
            ids.append(mid)
        if mid and threads:
            # remember this message as a possible parent in its thread
            for t in threads[::-1][:60]:
                if t[0] in subject or subject.endswith(t[0]):
                    t[1].append((mid, refs))
                    break

        if rng.random() < 0.03 and " " in subject:
            # whitespace as written: a double space or a tab inside the line
            subject = subject.replace(" ", rng.choice(["  ", "\t"]), 1)
            NOTES.add("subject-ws")
        facts["subject"] = subject
        if rng.random() < 0.03:
            subject = None                          # no Subject header

        # --- header
        hdr_order = []
        dh, dkind = date_header(when, rng)
        facts["date_kind"] = dkind
        if dh is not None:
            hdr_order.append("Date: %s" % dh)
        hdr_order.append("From: %s" % address(sender, rng))
        k = rng.choices([0, 1, 2, 3], weights=[3, 60, 25, 12])[0]
        if k == 0:
            hdr_order.append("To: undisclosed-recipients:;")
        else:
            to, people = address_list(rng, k)
            facts["to"] = people
            hdr_order.append(fold_header("To", to, rng))
        if rng.random() < 0.3:
            cc, people = address_list(rng, rng.randint(1, 3))
            facts["cc"] = people
            hdr_order.append(fold_header("Cc", cc, rng))
        if rng.random() < 0.08:
            bcc, people = address_list(rng, 1)
            facts["bcc"] = people
            hdr_order.append("Bcc: %s" % bcc)
        if subject is not None:
            hdr_order.append(fold_header("Subject", header_text(subject, rng, field="Subject"), rng)
                             if subject.isascii() else "Subject: %s" % header_text(subject, rng, field="Subject"))
        if mid:
            hdr_order.append("Message-ID: %s" % mid if rng.random() < 0.9 else "Message-Id: %s" % mid)
        if irt:
            hdr_order.append("In-Reply-To: %s" % irt)
        if refs:
            hdr_order.append(fold_header("References", " ".join(refs), rng))
        if listname:
            hdr_order.append("List-Id: %s <%s.lists.tide.test>" % (listname.capitalize(), listname))
        if rng.random() < 0.5:
            hdr_order.append("X-Mailer: %s" % rng.choice(MAILERS))
        if rng.random() < 0.15:
            hdr_order.append("X-Priority: %d%s" % (rng.randint(1, 5), rng.choice(["", " (Highest)", " (Normal)"])))
        if rng.random() < 0.25:
            hdr_order.append("X-Tag: %s" % header_text(sentence(rng, lang, 2), rng))
        if rng.random() < 0.05:
            hdr_order.append("X-Empty:")
        if rng.random() < 0.1:
            hdr_order.append("Reply-To: %s" % address(rng.choice(PEOPLE), rng))
        if rng.random() < 0.05:
            hdr_order.append("Organization: %s" % header_text(rng.choice(["Tide Mark GmbH", "Müller & Söhne", "ООО Ромашка"]), rng))
        if rng.random() < 0.03:
            hdr_order.append("Subject-Extra: invoice header not subject")
        if rng.random() < 0.3:
            rng.shuffle(hdr_order)

        # --- body
        big = rng.random() < 0.012
        mime = rng.random() < 0.85
        raw = Raw()
        raw.add("Received: from mx.example.net by tide.test; %s\n" % fmt_date(when, "+0000", rng))
        raw.add("\n".join(hdr_order) + "\n")
        if not mime:
            text = paragraph_text(rng, lang if rng.random() < 0.8 else "en",
                                  rng.randint(8000, 20000) if big else rng.randint(0, 150))
            raw.add("\n")
            raw.add(text)  # raw UTF-8 (or ASCII) body, no MIME headers
        else:
            ch, cb = build_entity(rng, 0, lang, big)
            raw.add("MIME-Version: 1.0\n" + ch + "\n\n")
            raw.add(cb)
        data = raw.bytes()
        facts["notes"] = sorted(NOTES)
        facts["nested_headers"] = "\n".join(NESTED_HEADERS)

        # --- flags, keywords, internal date
        flags = [f for f in SYSTEM_FLAGS if rng.random() < {"\\Seen": 0.55}.get(f, 0.12)]
        kws = [k for k in KEYWORDS if rng.random() < 0.1]
        append_flags, store_flags = [], []
        for f in flags + kws:
            (append_flags if rng.random() < 0.6 else store_flags).append(f)
        idate_dt = when + datetime.timedelta(seconds=rng.randint(0, 7200))
        if rng.random() < 0.1:
            idate_dt = EPOCH + datetime.timedelta(seconds=rng.randint(0, SPAN_DAYS * 86400))
        if rng.random() < 0.2:
            idate_dt = idate_dt.replace(hour=rng.choice([0, 23]), minute=rng.randint(0, 59))
        msgs.append({
            "raw": data,
            "flags": append_flags,
            "store": store_flags,
            "internaldate": internal_date(idate_dt, rng),
            "facts": facts,
            "sent": when,
            "idate": idate_dt,
        })
    return msgs


# ---------------------------------------------------------------------------
# Queries

def imap_date(d):
    return "%d-%s-%d" % (d.day, MONTHS[d.month - 1], d.year)


def substr(rng, s, cross_word=False):
    """A substring of `s` of 2..12 characters, sometimes spanning a space."""
    if not s:
        return "x"
    if cross_word and " " in s.strip():
        i = s.index(" ", 1) if " " in s[1:] else 0
        a = max(0, i - rng.randint(1, 4))
        return s[a:i + 1 + rng.randint(1, 4)]
    n = rng.randint(2, min(12, max(2, len(s))))
    a = rng.randint(0, max(0, len(s) - n))
    return s[a:a + n]


def vary_case(rng, s):
    r = rng.random()
    if r < 0.2:
        return s.upper()
    if r < 0.4:
        return s.lower()
    if r < 0.5:
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in s)
    return s


class QueryGen:
    def __init__(self, rng, msgs):
        self.rng = rng
        self.msgs = msgs
        self.n = len(msgs)
        self.sizes = sorted(len(m["raw"]) for m in msgs)
        self.subjects = [m["facts"]["subject"] for m in msgs if m["facts"]["subject"]]

    def text(self):
        """A search string: vocabulary word, address part or subject
        substring; sometimes non-ASCII, mixed case or across words."""
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            s = rng.choice(LANG_WORDS["mix"])
            if len(s) > 4 and rng.random() < 0.5:
                s = substr(rng, s)
        elif r < 0.55:
            s = substr(rng, rng.choice(self.subjects), cross_word=rng.random() < 0.4)
        elif r < 0.75:
            name, local, domain = rng.choice(PEOPLE)
            s = rng.choice([name or local, local, domain, "%s@%s" % (local, domain),
                            substr(rng, name or local)])
        elif r < 0.85:
            s = rng.choice(["ß", "SS", "ss", "ü", "Ü", "ue", "é", "É", "σ", "Σ", "ς", "ё", "Ё",
                            "е", "ﬁ", "Ω", "€", "“", "日本", "ΣΟΦΊΑ", "σοφία", "ΚΑΛΗΜΕΡΑ",
                            "straße", "STRASSE", "grüsse", "GRÜSSE", "ёлка", "ЕЛКА", "müller",
                            "MUELLER", "Ærø", "ærø", "ὈΔΥΣΣΕΎΣ", "ΜΟΣΚΒΑ", "москва"])
        elif r < 0.92:
            s = rng.choice(["invoice meeting", "re: ", "fwd", "[tide-dev]", "(fwd)",
                            "example", ".com", "@", "<", "nested", "Nested", "=?utf-8?",
                            "preamble", "epilogue", "quoted", "<b>", "html", "base64",
                            "Content-Type", "multipart", "attachment", " ", "  ",
                            "report.pdf", "Übersicht.pdf", "ghost", "undisclosed"])
        else:
            s = "".join(rng.choice(ASCII_WORDS)[:rng.randint(2, 4)] for _ in range(2))
        s = vary_case(rng, s)
        s = s.replace('"', "").replace("\\", "")
        return s or "x"

    def day(self, which):
        rng = self.rng
        m = rng.choice(self.msgs)
        d = m["idate"] if which == "internal" else m["sent"]
        d = (d + datetime.timedelta(days=rng.choice([-1, 0, 0, 0, 1]),
                                    hours=rng.choice([-12, 0, 12]))).date()
        if rng.random() < 0.05:
            d = rng.choice([datetime.date(1999, 1, 1), datetime.date(2030, 6, 15),
                            datetime.date(2000, 2, 29), datetime.date(1970, 1, 2)])
        return imap_date(d)

    def set_(self):
        rng = self.rng
        n = self.n
        r = rng.random()
        if r < 0.2:
            a = rng.randint(1, n)
            return "%d:*" % a
        if r < 0.35:
            return "*"
        if r < 0.5:
            a, b = rng.randint(1, n), rng.randint(1, n)
            return "%d:%d" % (b, a)   # either order
        parts = []
        for _ in range(rng.randint(1, 4)):
            a = rng.randint(1, n)
            if rng.random() < 0.5:
                parts.append(str(a))
            else:
                parts.append("%d:%d" % (a, min(n + 5, a + rng.randint(0, 80))))
        return ",".join(parts)

    def leaf(self):
        rng = self.rng
        r = rng.random()
        if r < 0.16:
            return rng.choice(["ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN",
                               "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN"])
        if r < 0.22:
            kw = rng.choice(KEYWORDS + ["nosuchkw"])
            if rng.random() < 0.1:
                kw = kw.upper()
            return "%s %s" % (rng.choice(["KEYWORD", "UNKEYWORD"]), kw)
        if r < 0.28:
            s = rng.choice(self.sizes)
            s += rng.choice([-1, 0, 0, 1, 500])
            return "%s %d" % (rng.choice(["LARGER", "SMALLER"]), max(0, s))
        if r < 0.34:
            return "%s %s" % (rng.choice(["BEFORE", "ON", "SINCE"]), self.day("internal"))
        if r < 0.41:
            return "%s %s" % (rng.choice(["SENTBEFORE", "SENTON", "SENTSINCE"]), self.day("sent"))
        if r < 0.46:
            return rng.choice(["UID ", ""]) + self.set_()
        if r < 0.55:
            name = rng.choice(HEADER_NAMES)
            if rng.random() < 0.3:
                name = name.lower()
            v = rng.choice(["", self.text(), "<", "tide", "1", "High", "text/plain",
                            "multipart", "ghost", "@"])
            return "HEADER %s %s" % (name, self._s(v))
        key = rng.choices(["FROM", "TO", "CC", "BCC", "SUBJECT", "BODY", "TEXT"],
                          weights=[14, 10, 6, 3, 16, 14, 12])[0]
        return "%s %s" % (key, self._s(self.text()))

    @staticmethod
    def _s(s):
        # a marker for run.py: \x00 ... \x01 around strings to be sent as
        # literals when they are not plain ASCII
        return "\x00" + s + "\x01"

    def tree(self, depth):
        rng = self.rng
        if depth >= 3 or rng.random() < 0.45:
            return self.leaf()
        r = rng.random()
        if r < 0.35:
            return "OR %s %s" % (self.tree(depth + 1), self.tree(depth + 1))
        if r < 0.6:
            return "NOT %s" % self.tree(depth + 1)
        k = rng.randint(2, 3)
        inner = " ".join(self.tree(depth + 1) for _ in range(k))
        return "(%s)" % inner if rng.random() < 0.7 else inner

    def criteria(self):
        return self.tree(0)

    def sort_criteria(self):
        rng = self.rng
        keys = rng.sample(["ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO",
                           "DISPLAYFROM", "DISPLAYTO"], rng.randint(1, 3))
        return " ".join(("REVERSE " if rng.random() < 0.3 else "") + k for k in keys)


def render(q):
    """The query as a printable one-line string (literals shown quoted)."""
    out = []
    i = 0
    while i < len(q):
        if q[i] == "\x00":
            j = q.index("\x01", i)
            out.append('"%s"' % q[i + 1:j])
            i = j + 1
        else:
            out.append(q[i])
            i += 1
    return "".join(out)


def gen_queries(msgs, seed=SEED, n_search=N_SEARCH, n_sort=N_SORT, n_thread=N_THREAD):
    """A list of (kind, command-text) with kind in search/sort/thread. The
    command text holds search strings between \\x00 and \\x01 (see render)."""
    rng = random.Random(seed * 7 + 1)
    g = QueryGen(rng, msgs)
    out = []
    # a few fixed queries first: each key alone
    fixed = ["ALL", "SEEN", "UNSEEN", "DELETED", "FLAGGED", "ANSWERED", "DRAFT",
             "KEYWORD work", "UNKEYWORD $Junk", "KEYWORD nosuchkw", "LARGER 20000",
             "SMALLER 1000", "SUBJECT \x00invoice\x01", "FROM \x00alice\x01",
             "BODY \x00Straße\x01", "TEXT \x00ß\x01", "SUBJECT \x00Σ\x01",
             "HEADER X-Empty \x00\x01", "HEADER List-Id \x00tide-dev\x01",
             "BODY \x00nested\x01", "SENTON 1-Dec-2023", "ON 1-Dec-2023",
             "NOT SENTBEFORE 1-Jan-2100", "SENTSINCE 1-Jan-1990",
             "OR SEEN FLAGGED", "NOT NOT SEEN", "UID 1:*", "1:*", "*",
             "BODY \x00invoice meeting\x01", "TEXT \x00Nested\x01",
             "FROM \x00Иван\x01", "TO \x00山田\x01", "SUBJECT \x00ﬁ\x01",
             "FROM \x00O'Neil\x01", "TEXT \x00report.pdf\x01", "BODY \x00Content-Type\x01",
             "TEXT \x00attachment\x01", "FROM \x00Carol Clark\x01", "TO \x00Carol Clark\x01",
             "BODY \x00ẞ\x01", "SUBJECT \x00STRAẞE\x01", "HEADER Subject \x00\x01",
             "NOT HEADER Date \x00\x01", "SENTON 1-Jan-1970", "SENTBEFORE 2-Jan-1970"]
    for m in msgs:
        # the whitespace of subjects as written (double space, tab)
        if "subject-ws" in m["facts"]["notes"] and len(fixed) < 60:
            subj = m["facts"]["subject"]
            i = max(subj.find("  "), subj.find("\t"))
            written = subj[max(0, i - 3):i + 5]
            fixed.append("SUBJECT \x00%s\x01" % " ".join(written.split(" ")).replace("\t", " ").replace("  ", " "))
            fixed.append("SUBJECT \x00%s\x01" % written)
    for f in fixed:
        out.append(("search", f))
    while sum(1 for k, _ in out if k == "search") < n_search:
        out.append(("search", g.criteria()))
    for _ in range(n_sort):
        crit = "ALL" if rng.random() < 0.3 else g.criteria()
        out.append(("sort", "(%s) UTF-8 %s" % (g.sort_criteria(), crit)))
    for _ in range(n_thread):
        crit = "ALL" if rng.random() < 0.3 else g.criteria()
        alg = rng.choice(["ORDEREDSUBJECT", "REFERENCES"])
        out.append(("thread", "%s UTF-8 %s" % (alg, crit)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--messages", type=int, default=N_MESSAGES)
    ap.add_argument("--dump", metavar="DIR")
    args = ap.parse_args()
    msgs = gen_messages(args.seed, args.messages)
    qs = gen_queries(msgs, args.seed)
    sizes = [len(m["raw"]) for m in msgs]
    print("messages: %d, bytes: %d (min %d, max %d), queries: %d" % (
        len(msgs), sum(sizes), min(sizes), max(sizes), len(qs)))
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        meta = []
        for i, m in enumerate(msgs, 1):
            with open(os.path.join(args.dump, "%04d.eml" % i), "wb") as f:
                f.write(m["raw"])
            meta.append({"n": i, "flags": m["flags"], "store": m["store"],
                         "internaldate": m["internaldate"]})
        with open(os.path.join(args.dump, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
        with open(os.path.join(args.dump, "queries.txt"), "w") as f:
            for k, q in qs:
                f.write("%s %s\n" % (k.upper(), render(q)))


if __name__ == "__main__":
    main()
