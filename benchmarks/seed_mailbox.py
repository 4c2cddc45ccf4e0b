#!/usr/bin/env python3
"""Writes a reproducible test mailbox straight into a Maildir's cur/ directory.

Message sizes are log-uniform between --min and --max octets (fixed seed). Small messages are plain text;
larger ones are multipart/mixed with a text part and a base64 attachment of random bytes, CRLF line ends
throughout, as Dovecot stores mail with mail_save_crlf = yes. Writing files directly is much faster than
delivering thousands of messages over LMTP or doveadm save; Dovecot indexes them on first access.
"""
import argparse
import base64
import math
import os
import random
import sys

WORDS = ("the quick brown fox jumps over a lazy dog while mail proxies relay messages between clients and "
         "servers over encrypted links without changing a single octet of what they carry").split()


def text_block(rng, octets):
    """CRLF text of roughly `octets` bytes in lines of at most 72 characters."""
    lines, total = [], 0
    while total < octets:
        words, n = [], 0
        while n < 60:
            w = rng.choice(WORDS)
            words.append(w)
            n += len(w) + 1
        line = " ".join(words)
        lines.append(line)
        total += len(line) + 2
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def b64_block(rng, raw_octets):
    data = rng.randbytes(raw_octets)
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def message(rng, i, target):
    day = 1 + i % 28
    hour, minute, second = rng.randrange(24), rng.randrange(60), rng.randrange(60)
    headers = (
        f"Return-Path: <sender{i % 17}@example.net>\r\n"
        f"From: Sender {i % 17} <sender{i % 17}@example.net>\r\n"
        f"To: Alice <alice@example.test>\r\n"
        f"Subject: benchmark message {i} of about {target} octets\r\n"
        f"Date: Mon, {day:02d} Sep 2025 {hour:02d}:{minute:02d}:{second:02d} +0000\r\n"
        f"Message-ID: <bench-{i}@example.net>\r\n"
        f"MIME-Version: 1.0\r\n"
    ).encode("ascii")
    if target < 8192:
        head = headers + b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        return head + text_block(rng, max(64, target - len(head)))
    boundary = f"=_bench_{i}_{rng.getrandbits(48):012x}"
    text = text_block(rng, rng.randrange(1024, 4096))
    head = headers + f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode("ascii")
    part1 = (f"This is a multi-part message in MIME format.\r\n\r\n--{boundary}\r\n"
             "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n").encode("ascii")
    part2 = (f"\r\n--{boundary}\r\nContent-Type: application/octet-stream; name=\"attachment-{i}.bin\"\r\n"
             f"Content-Disposition: attachment; filename=\"attachment-{i}.bin\"\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n").encode("ascii")
    tail = f"\r\n--{boundary}--\r\n".encode("ascii")
    room = target - len(head) - len(part1) - len(text) - len(part2) - len(tail)
    raw = max(57, room * 57 // 78)  # base64 of 57 octets is one 76-character line plus CRLF
    return head + part1 + text + part2 + b64_block(rng, raw) + tail


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--maildir", required=True, help="Maildir to create (cur, new, tmp)")
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--min", type=int, default=2 * 1024)
    p.add_argument("--max", type=int, default=2 * 1024 * 1024)
    p.add_argument("--seed", type=int, default=20250901)
    a = p.parse_args()
    rng = random.Random(a.seed)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(a.maildir, sub), exist_ok=True)
    lo, hi = math.log(a.min), math.log(a.max)
    total, sizes = 0, []
    for i in range(1, a.count + 1):
        target = int(math.exp(rng.uniform(lo, hi)))
        body = message(rng, i, target)
        flags = "S" if i % 3 else ""
        name = f"{1756684800 + i}.M{i}P1.bench,S={len(body)},W={len(body)}:2,{flags}"
        with open(os.path.join(a.maildir, "cur", name), "wb") as f:
            f.write(body)
        total += len(body)
        sizes.append(len(body))
    sizes.sort()
    print(f"messages={a.count} octets={total} min={sizes[0]} median={sizes[len(sizes) // 2]} max={sizes[-1]}")


if __name__ == "__main__":
    sys.exit(main())
