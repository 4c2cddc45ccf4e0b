#!/usr/bin/env python3
"""SMTP load generator and checks for benchmarks/smtp.sh (Python 3 standard library only).

  load       N messages of about SIZE octets over S parallel authenticated sessions (one thread and one SMTP
             session each, messages dealt round-robin), then waits until a Maildir holds the expected number of
             files. Prints one line: LOAD sent=... failed=... octets=... submit=SECONDS delivered=SECONDS.
  check      reads every message in a Maildir: all must be PGP/MIME (multipart/encrypted; protocol=
             "application/pgp-encrypted", RFC 3156 section 4) with an armored OpenPGP message and no trace of the
             plaintext body, or all must be plain text carrying their body (--expect plain). With --gpg-home one
             encrypted message is decrypted with gpg and its body compared with what was sent.
  big        one message with a random attachment of --mb million octets (base64, RFC 2045 6.8), streamed to
             the socket so the client holds no copy; waits for delivery. Prints BIG sent=... sha256=... submit=...
             delivered=...
  verify-big reads a decrypted message on stdin, decodes the attachment part in a streaming way and compares its
             SHA-256 with --sha256.

Messages are generated before the clock starts: a fixed-seed pool of text lines, a different slice for each
message, so the same run id and seed give the same bytes. Each body starts with "bench-id: RUN-I", the token the
checks look for.
"""
import argparse
import base64
import hashlib
import os
import random
import re
import smtplib
import ssl
import subprocess
import sys
import threading
import time

WORDS = ("mail proxy relay header body message transport session cipher packet stream armor boundary client server "
         "upstream submission delivery mailbox folder envelope recipient sender signature certificate fingerprint "
         "the a of to and in for on with by from that this is are was were be been have has had do does did not "
         "but or as at it its their there which who what when where how why all any both each few more most other "
         "some such no nor only own same so than too very can will just should now alpha bravo charlie delta echo "
         "foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform "
         "victor whiskey xray yankee zulu 2026 42 17 3.14 version release build test bench load proxy").split()
POOL_LINES = 20000
BIG_BOUNDARY = "bench-big-boundary-7f3a9c"


def text_pool(seed):
    rnd = random.Random(seed)
    lines = []
    for _ in range(POOL_LINES):
        words, length = [], 0
        target = rnd.randint(40, 74)
        while length < target:
            w = rnd.choice(WORDS)
            words.append(w)
            length += len(w) + 1
        line = " ".join(words)
        lines.append(line.capitalize() + ("." if rnd.random() < 0.3 else ""))
    return lines


def body_of(pool, run_id, index, size, seed):
    """The body of message INDEX: its token line, then pool lines from a seeded offset up to about SIZE octets."""
    rnd = random.Random(f"{seed}:{run_id}:{index}")
    start = rnd.randrange(len(pool))
    out = [f"bench-id: {run_id}-{index}"]
    total = len(out[0]) + 2
    i = start
    while total < size:
        line = pool[i % len(pool)]
        out.append(line)
        total += len(line) + 2
        i += 1
    return "\r\n".join(out) + "\r\n"


def message_of(pool, args, index):
    header = (f"From: <{args.sender}>\r\n"
              f"To: <{args.to}>\r\n"
              f"Subject: bench {args.run_id} {index}\r\n"
              f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
              f"Message-ID: <{args.run_id}.{index}@bench.example.test>\r\n"
              "MIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=us-ascii\r\n"
              "Content-Transfer-Encoding: 7bit\r\n"
              "\r\n")
    body = body_of(pool, args.run_id, index, max(0, args.size - len(header)), args.seed)
    return (header + body).encode("ascii")


def read_password(path):
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n")


def open_session(args, password, timeout):
    """One authenticated SMTP session; --security says how the connection is protected (plain only on loopback)."""
    ctx = ssl.create_default_context(cafile=args.cafile) if args.security != "plain" else None
    if args.security == "tls":
        s = smtplib.SMTP_SSL(args.host, args.port, timeout=timeout, context=ctx)
    else:
        s = smtplib.SMTP(args.host, args.port, timeout=timeout)
    s.ehlo("bench.example.test")
    if args.security == "starttls":
        s.starttls(context=ctx)
        s.ehlo("bench.example.test")
    s.login(args.user, password)
    return s


def maildir_count(maildir):
    n = 0
    for sub in ("new", "cur"):
        try:
            n += len(os.listdir(os.path.join(maildir, sub)))
        except FileNotFoundError:
            pass
    return n


def wait_delivered(maildir, expected, t0, timeout):
    """Seconds from T0 until MAILDIR holds EXPECTED files, or None after TIMEOUT seconds."""
    while True:
        if maildir_count(maildir) >= expected:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(0.02)


def cmd_load(args):
    password = read_password(args.password_file)
    pool = text_pool(args.seed)
    messages = [message_of(pool, args, i) for i in range(args.messages)]
    shares = [messages[k::args.sessions] for k in range(args.sessions)]
    sent = [0] * args.sessions
    errors = []
    lock = threading.Lock()
    start = threading.Barrier(args.sessions + 1)

    def worker(k):
        try:
            start.wait()
            s = open_session(args, password, args.timeout)
            try:
                for m in shares[k]:
                    refused = s.sendmail(args.sender, [args.to], m)
                    if refused:
                        raise RuntimeError(f"refused recipients {refused}")
                    sent[k] += 1
            finally:
                try:
                    s.quit()
                except (smtplib.SMTPException, OSError):
                    pass
        except Exception as e:  # reported below; one failing session must not hang the others
            with lock:
                errors.append(f"session {k}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(args.sessions)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    submit = time.monotonic() - t0
    total_sent = sum(sent)
    delivered = None
    if args.maildir and not errors:
        delivered = wait_delivered(args.maildir, args.base_count + total_sent, t0, args.delivery_timeout)
    octets = sum(len(m) for m in messages)
    for e in errors[:10]:
        print(e, file=sys.stderr)
    print(f"LOAD sent={total_sent} failed={args.messages - total_sent} octets={octets} submit={submit:.3f} "
          f"delivered={'%.3f' % delivered if delivered is not None else 'timeout'}")
    return 0 if not errors and total_sent == args.messages and (delivered is not None or not args.maildir) else 1


HEADER_END = re.compile(rb"\r?\n\r?\n")


def split_message(data):
    m = HEADER_END.search(data)
    if not m:
        return data, b""
    return data[:m.start()], data[m.end():]


def content_type(header):
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", header)
    for line in unfolded.split(b"\n"):
        if line.lower().startswith(b"content-type:"):
            return line[len(b"content-type:"):].strip().decode("ascii", "replace")
    return ""


def maildir_files(maildir):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        if os.path.isdir(d):
            out.extend(os.path.join(d, f) for f in sorted(os.listdir(d)))
    return out


def cmd_check(args):
    files = maildir_files(args.maildir)
    if len(files) != args.count:
        print(f"CHECK FAIL: {len(files)} messages in {args.maildir}, expected {args.count}")
        return 1
    token = f"bench-id: {args.run_id}-".encode()
    bad = []
    sample = None
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        header, body = split_message(data)
        ctype = content_type(header).lower()
        if args.expect == "encrypted":
            ok = (ctype.startswith("multipart/encrypted")
                  and re.search(r'protocol="?application/pgp-encrypted"?', ctype) is not None
                  and b"-----BEGIN PGP MESSAGE-----" in body and token not in data)
            sample = sample or path
        else:
            ok = ctype.startswith("text/plain") and token in body
        if not ok:
            bad.append(f"{os.path.basename(path)} ({ctype or 'no Content-Type'})")
    if bad:
        print(f"CHECK FAIL: {len(bad)} of {len(files)} messages are not {args.expect}: {', '.join(bad[:3])}")
        return 1
    note = ""
    if args.expect == "encrypted" and args.gpg_home:
        result = subprocess.run(["gpg", "--homedir", args.gpg_home, "--batch", "--status-fd", "2", "--decrypt",
                                 sample], capture_output=True)
        if result.returncode != 0:
            print(f"CHECK FAIL: gpg cannot decrypt {sample}: "
                  f"{result.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:]}")
            return 1
        plain = result.stdout.replace(b"\r\n", b"\n")
        m = re.search(re.escape(token) + rb"(\d+)", plain)
        if not m:
            print(f"CHECK FAIL: the decryption of {sample} carries no bench-id")
            return 1
        index = int(m.group(1))
        pool = text_pool(args.seed)
        want = body_of(pool, args.run_id, index, max(0, args.size - args.header_guess), args.seed)
        # The body sent is the token line plus pool lines; compare the lines that fit in both (the header length,
        # hence the body length, is not known here exactly).
        want_lines = want.replace("\r\n", "\n").encode().split(b"\n")[:-2]
        got = plain[m.start():]
        if not got.startswith(b"\n".join(want_lines)):
            print(f"CHECK FAIL: the decrypted body of message {index} differs from the one sent")
            return 1
        status = result.stderr.decode("utf-8", "replace")
        if "[GNUPG:] BADSIG" in status:
            print(f"CHECK FAIL: the signature in {sample} is bad")
            return 1
        sig = "good signature" if "[GNUPG:] GOODSIG" in status else "signature not verified"
        note = f"; gpg decrypted message {index}: body as sent, {sig}"
    print(f"CHECK OK: {len(files)} messages, all {args.expect}{note}")
    return 0


def big_parts(mb, seed, digest):
    """Yields the message's octets in chunks: headers, a text part, the base64 attachment; feeds DIGEST."""
    yield ("MIME-Version: 1.0\r\n"
           f'Content-Type: multipart/mixed; boundary="{BIG_BOUNDARY}"\r\n'
           "\r\n"
           f"--{BIG_BOUNDARY}\r\n"
           "Content-Type: text/plain; charset=us-ascii\r\n"
           "\r\n"
           f"bench-id: big-{seed}\r\nA random attachment of {mb} million octets follows.\r\n"
           f"--{BIG_BOUNDARY}\r\n"
           "Content-Type: application/octet-stream\r\n"
           'Content-Disposition: attachment; filename="random.bin"\r\n'
           "Content-Transfer-Encoding: base64\r\n"
           "\r\n").encode("ascii")
    rnd = random.Random(seed)
    remaining = mb * 1_000_000
    chunk = 57 * 16384  # whole base64 lines of 76 characters
    while remaining > 0:
        n = min(chunk, remaining)
        raw = rnd.randbytes(n)
        digest.update(raw)
        remaining -= n
        b64 = base64.b64encode(raw)
        yield b"\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76)) + b"\r\n"
    yield f"--{BIG_BOUNDARY}--\r\n".encode("ascii")


def cmd_big(args):
    password = read_password(args.password_file)
    s = open_session(args, password, args.timeout)
    digest = hashlib.sha256()
    t0 = time.monotonic()
    octets = 0
    head = (f"From: <{args.sender}>\r\nTo: <{args.to}>\r\nSubject: bench big attachment\r\n"
            f"Message-ID: <big.{args.seed}.{int(time.time())}@bench.example.test>\r\n").encode("ascii")
    code, resp = s.mail(args.sender)
    if code != 250:
        raise SystemExit(f"MAIL FROM refused: {code} {resp!r}")
    code, resp = s.rcpt(args.to)
    if code not in (250, 251):
        raise SystemExit(f"RCPT TO refused: {code} {resp!r}")
    code, resp = s.docmd("DATA")
    if code != 354:
        raise SystemExit(f"DATA refused: {code} {resp!r}")
    # No line of this message starts with a dot (headers, boundaries, base64), so no dot-stuffing is needed.
    s.sock.sendall(head)
    octets += len(head)
    for part in big_parts(args.mb, args.seed, digest):
        s.sock.sendall(part)
        octets += len(part)
    s.sock.sendall(b".\r\n")
    sent_at = time.monotonic() - t0
    code, resp = s.getreply()
    submit = time.monotonic() - t0
    try:
        s.quit()
    except (smtplib.SMTPException, OSError):
        pass
    if code != 250:
        print(f"BIG refused after DATA: {code} {resp.decode('utf-8', 'replace')}")
        return 1
    delivered = wait_delivered(args.maildir, args.base_count + 1, t0, args.delivery_timeout) if args.maildir else None
    print(f"BIG sent={octets} sha256={digest.hexdigest()} streamed={sent_at:.3f} submit={submit:.3f} "
          f"delivered={'%.3f' % delivered if delivered is not None else 'timeout'}")
    return 0 if delivered is not None or not args.maildir else 1


def cmd_verify_big(args):
    """Finds the attachment between BIG_BOUNDARY lines in the decrypted message and hashes it as it decodes."""
    digest = hashlib.sha256()
    state = "before"  # before the attachment part, in its header, in its body, done
    decoded = 0
    for line in sys.stdin.buffer:
        line = line.rstrip(b"\r\n")
        if state == "before":
            if line == b"Content-Disposition: attachment; filename=\"random.bin\"":
                state = "header"
        elif state == "header":
            if not line:
                state = "body"
        elif state == "body":
            if line.startswith(b"--"):
                state = "done"
                continue
            raw = base64.b64decode(line)
            decoded += len(raw)
            digest.update(raw)
    if state != "done" or digest.hexdigest() != args.sha256:
        print(f"VERIFY FAIL: attachment state {state}, {decoded} octets, sha256 {digest.hexdigest()}")
        return 1
    print(f"VERIFY OK: attachment of {decoded} octets decrypted with its SHA-256 as sent")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def session_args(q):
        q.add_argument("--host", default="127.0.0.1")
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--security", choices=["plain", "starttls", "tls"], required=True)
        q.add_argument("--cafile")
        q.add_argument("--user", required=True)
        q.add_argument("--password-file", required=True)
        q.add_argument("--sender", required=True)
        q.add_argument("--to", required=True)
        q.add_argument("--maildir", help="the recipient's Maildir, counted to know when delivery is complete")
        q.add_argument("--base-count", type=int, default=0, help="files in the Maildir before this run")
        q.add_argument("--timeout", type=float, default=600, help="SMTP socket timeout, seconds")
        q.add_argument("--delivery-timeout", type=float, default=900)
        q.add_argument("--seed", type=int, default=20251129)

    q = sub.add_parser("load")
    session_args(q)
    q.add_argument("--messages", type=int, default=1000)
    q.add_argument("--sessions", type=int, default=10)
    q.add_argument("--size", type=int, default=20480)
    q.add_argument("--run-id", required=True)
    q.set_defaults(func=cmd_load)

    q = sub.add_parser("big")
    session_args(q)
    q.add_argument("--mb", type=int, default=100)
    q.set_defaults(func=cmd_big)

    q = sub.add_parser("check")
    q.add_argument("--maildir", required=True)
    q.add_argument("--count", type=int, required=True)
    q.add_argument("--run-id", required=True)
    q.add_argument("--expect", choices=["encrypted", "plain"], required=True)
    q.add_argument("--gpg-home")
    q.add_argument("--seed", type=int, default=20251129)
    q.add_argument("--size", type=int, default=20480)
    q.add_argument("--header-guess", type=int, default=300)
    q.set_defaults(func=cmd_check)

    q = sub.add_parser("verify-big")
    q.add_argument("--sha256", required=True)
    q.set_defaults(func=cmd_verify_big)

    args = p.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
