#!/usr/bin/env python3
"""Encrypted test mailboxes and their checks for benchmarks/imap_view.sh (Python 3 standard library and gpg).

  seed       the mailbox of seed_mailbox.py (same sizes, same bytes, same seed), but every other message (the even
             ones) PGP/MIME-encrypted with gpg to --recipient (RFC 3156 section 4: multipart/encrypted;
             protocol="application/pgp-encrypted", part 1 application/pgp-encrypted "Version: 1", part 2
             application/octet-stream holding the armored `gpg --encrypt` output of the original entity: its
             Content-* fields and body; the other fields stay outside). Written straight into a Maildir's cur/.
             Also writes, under --out, the armored payloads (payloads/N.asc, for timing gpg) and manifest.tsv (per
             message: number, encrypted?, SHA-256 of the original message and of its body, the body's length;
             line ends as LF, as mbsync writes them).
  check      every message of a Maildir mbsync wrote (LF line ends, without the X-TUID field mbsync adds) against
             the manifest, found by Message-ID:
             all present once; plain ones identical to the original; encrypted ones through the proxy (--path proxy)
             carry no armored OpenPGP message and end with the original body, through stunnel they do carry one.
             Prints CHECK messages=... decrypted=... digest=SHA-256 over the numbers and the messages' SHA-256.
  gpg-time   decrypts every payload with gpg, agent warm (one untimed decryption first), output to --scratch:
             once as ONE gpg process (--decrypt-files, the cost of the decryption itself), once as one gpg process
             per message, one after another. Prints GPG batch=SECONDS single=SECONDS files=N octets=N.
  big        one message with a random attachment of --mb million octets (base64), encrypted like the others, into
             a Maildir's cur/. Prints BIG octets=... sha256=... (of the attachment's decoded octets).
"""
import argparse
import base64
import concurrent.futures
import hashlib
import math
import os
import random
import re
import resource
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_mailbox  # noqa: E402  the same generator, so the plaintext matches relay.sh's mailbox
import smtp_load  # noqa: E402  the big message's parts and its verification

ARMOR = b"-----BEGIN PGP MESSAGE-----"
MSGID = re.compile(rb"^Message-ID:\s*<bench-(\d+)@example\.net>", re.IGNORECASE | re.MULTILINE)


def split(message):
    """Header section (with its final CRLF) and body of a CRLF message."""
    end = message.index(b"\r\n\r\n")
    return message[:end + 2], message[end + 4:]


def fields(header):
    """The header section as a list of fields, each with its folded lines and CRLFs."""
    out = []
    for line in header.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and out:
            out[-1] += line + b"\r\n"
        else:
            out.append(line + b"\r\n")
    return out


def gpg_encrypt(gpg_home, recipient, data):
    """Armored `gpg --encrypt` of DATA (gpg's defaults for the cipher and compression), line ends made CRLF."""
    r = subprocess.run(["gpg", "--homedir", gpg_home, "--batch", "--quiet", "--trust-model", "always",
                        "--armor", "--encrypt", "--recipient", recipient],
                       input=data, capture_output=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"gpg --encrypt failed: {r.stderr.decode(errors='replace')}")
    return r.stdout.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def pgp_mime(outer, armored, tag):
    """RFC 3156 section 4 around an armored payload, below the routing fields OUTER."""
    boundary = f"=_pgp_{tag}"
    return (outer
            + f'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n'
              f' boundary="{boundary}"\r\n\r\n'
              f"This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
              f"--{boundary}\r\n"
              "Content-Type: application/pgp-encrypted\r\n"
              "Content-Description: PGP/MIME version identification\r\n\r\n"
              "Version: 1\r\n\r\n"
              f"--{boundary}\r\n"
              'Content-Type: application/octet-stream; name="encrypted.asc"\r\n'
              "Content-Description: OpenPGP encrypted message\r\n"
              'Content-Disposition: inline; filename="encrypted.asc"\r\n\r\n'.encode("ascii")
            + armored
            + f"\r\n--{boundary}--\r\n".encode("ascii"))


def encrypt_message(gpg_home, recipient, message, tag):
    """The message with its Content-* fields and body encrypted; returns (PGP/MIME message, armored payload)."""
    header, body = split(message)
    outer, inner = [], []
    for f in fields(header):
        (inner if f.lower().startswith(b"content-") else outer).append(f)
    armored = gpg_encrypt(gpg_home, recipient, b"".join(inner) + b"\r\n" + body)
    return pgp_mime(b"".join(outer), armored, tag), armored


def lf(data):
    return data.replace(b"\r\n", b"\n")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def cmd_seed(a):
    rng = random.Random(a.seed)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(a.maildir, sub), exist_ok=True)
    os.makedirs(os.path.join(a.out, "payloads"), exist_ok=True)
    lo, hi = math.log(a.min), math.log(a.max)
    manifest, total, plain_total, enc_plain, sizes = [], 0, 0, 0, []

    def store(i, data, flags):
        name = f"{1756684800 + i}.M{i}P1.bench,S={len(data)},W={len(data)}:2,{flags}"
        with open(os.path.join(a.maildir, "cur", name), "wb") as f:
            f.write(data)

    def finish(i, original, flags, enc_future):
        nonlocal total
        if enc_future is None:
            data = original
        else:
            data, armored = enc_future.result()
            with open(os.path.join(a.out, "payloads", f"{i}.asc"), "wb") as f:
                f.write(armored)
        store(i, data, flags)
        total += len(data)
        sizes.append(len(data))

    workers = max(1, os.cpu_count() or 1)
    pending = []
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for i in range(1, a.count + 1):
            target = int(math.exp(rng.uniform(lo, hi)))  # the same draws, in the same order, as seed_mailbox.py
            original = seed_mailbox.message(rng, i, target)
            flags = "S" if i % 3 else ""
            encrypted = i % 2 == 0
            plain_total += len(original)
            _, body = split(original)
            manifest.append(f"{i}\t{int(encrypted)}\t{sha(lf(original))}\t{sha(lf(body))}\t{len(lf(body))}")
            fut = None
            if encrypted:
                enc_plain += len(original)
                fut = pool.submit(encrypt_message, a.gpg_home, a.recipient, original, f"{i}_{a.seed}")
            pending.append((i, original, flags, fut))
            while len(pending) > 2 * workers:  # bounded: at most a few 2 MB messages in memory
                finish(*pending.pop(0))
        while pending:
            finish(*pending.pop(0))
    with open(os.path.join(a.out, "manifest.tsv"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    sizes.sort()
    print(f"messages={a.count} encrypted={a.count // 2} octets={total} plaintext_octets={plain_total} "
          f"encrypted_plaintext_octets={enc_plain} min={sizes[0]} median={sizes[len(sizes) // 2]} max={sizes[-1]}")


def read_manifest(path):
    m = {}
    with open(path) as f:
        for line in f:
            i, enc, whole, body, body_len = line.rstrip("\n").split("\t")
            m[int(i)] = (enc == "1", whole, body, int(body_len))
    return m


TUID = re.compile(rb"^X-TUID: [^\n]*\n", re.MULTILINE)


def without_tuid(data):
    """The message without the X-TUID field mbsync adds to the header (a random token, different every sync)."""
    end = data.find(b"\n\n")
    if end < 0:
        return data
    return TUID.sub(b"", data[:end + 1], count=1) + data[end + 1:]


def cmd_check(a):
    manifest = read_manifest(a.manifest)
    seen, problems, decrypted = {}, [], 0
    for sub in ("cur", "new"):
        d = os.path.join(a.near, sub)
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                data = without_tuid(f.read())
            # Only the header section names the message: a body may quote anything.
            m = MSGID.search(data[:data.find(b"\n\n") + 1] if b"\n\n" in data else data)
            if not m:
                problems.append(f"{name}: no benchmark Message-ID")
                continue
            i = int(m.group(1))
            if i in seen:
                problems.append(f"message {i} twice")
            seen[i] = sha(data)
            enc, whole, body, body_len = manifest.get(i, (None, None, None, 0))
            if enc is None:
                problems.append(f"message {i} not in the manifest")
            elif not enc:
                if seen[i] != whole:
                    problems.append(f"plain message {i} differs from the original ({len(data)} octets, "
                                    f"starts {data[:60]!r})")
            elif a.path == "proxy":
                if ARMOR in data:
                    problems.append(f"encrypted message {i} still carries an armored OpenPGP message")
                elif data.find(b"\n\n") < 0 or sha(data[len(data) - body_len:]) != body:
                    problems.append(f"encrypted message {i} does not end with the original body")
                else:
                    decrypted += 1
            elif ARMOR not in data:
                problems.append(f"encrypted message {i} carries no armored OpenPGP message through {a.path}")
    missing = sorted(set(manifest) - set(seen))
    if missing:
        problems.append(f"{len(missing)} messages missing, e.g. {missing[:5]}")
    digest = hashlib.sha256("".join(f"{i}:{seen[i]}\n" for i in sorted(seen)).encode()).hexdigest()
    if problems:
        print(f"CHECK FAIL ({len(problems)} problems): " + "; ".join(problems[:5]))
        return 1
    print(f"CHECK messages={len(seen)} decrypted={decrypted} digest={digest}")
    return 0


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cmd_gpg_time(a):
    payloads = sorted(os.path.join(a.payloads, f) for f in os.listdir(a.payloads) if f.endswith(".asc"))
    octets = sum(os.path.getsize(p) for p in payloads)
    base = ["gpg", "--homedir", a.gpg_home, "--batch", "--quiet", "--yes", "--pinentry-mode", "loopback",
            "--passphrase-file", a.passphrase_file]
    os.makedirs(a.scratch, exist_ok=True)

    def single(p):
        with open(os.devnull, "wb") as sink:
            subprocess.run(base + ["--decrypt", p], stdout=sink, check=True)

    single(payloads[0])  # the agent has the key unlocked from here on
    # One process for all: --decrypt-files writes N.asc's plaintext as N next to it, so decrypt copies in scratch.
    links = []
    for p in payloads:
        q = os.path.join(a.scratch, os.path.basename(p))
        if not os.path.exists(q):
            os.symlink(p, q)
        links.append(q)
    c0, t0 = child_cpu(), time.monotonic()
    subprocess.run(base + ["--decrypt-files"] + links, check=True)
    batch, batch_cpu = time.monotonic() - t0, child_cpu() - c0
    out = [q[:-4] for q in links]
    missing = [q for q in out if not os.path.exists(q)]
    plain = sum(os.path.getsize(q) for q in out if os.path.exists(q))
    for q in out:
        if os.path.exists(q):
            os.unlink(q)
    if missing:
        raise SystemExit(f"gpg --decrypt-files left {len(missing)} payloads undecrypted")
    c0, t0 = child_cpu(), time.monotonic()
    for p in payloads:
        single(p)
    one, one_cpu = time.monotonic() - t0, child_cpu() - c0
    print(f"GPG batch={batch:.3f} batch_cpu={batch_cpu:.2f} single={one:.3f} single_cpu={one_cpu:.2f} "
          f"files={len(payloads)} octets={octets} plaintext={plain}")


def cmd_big(a):
    os.makedirs(os.path.join(a.maildir, "cur"), exist_ok=True)
    for sub in ("new", "tmp"):
        os.makedirs(os.path.join(a.maildir, sub), exist_ok=True)
    digest = hashlib.sha256()
    entity = b"".join(smtp_load.big_parts(a.mb, a.seed, digest))
    header, body = split(entity)
    outer = (b"From: Sender <sender@example.net>\r\nTo: Alice <alice@example.test>\r\n"
             b"Subject: benchmark big attachment\r\nDate: Mon, 01 Sep 2025 12:00:00 +0000\r\n"
             b"Message-ID: <bench-big@example.net>\r\n")
    message, _ = encrypt_message(a.gpg_home, a.recipient, outer + entity, "big")
    name = f"1756684800.Mbig.bench,S={len(message)},W={len(message)}:2,"
    with open(os.path.join(a.maildir, "cur", name), "wb") as f:
        f.write(message)
    print(f"BIG octets={len(message)} plaintext={len(outer) + len(entity)} sha256={digest.hexdigest()}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def generator(q):
        q.add_argument("--count", type=int, default=2000)
        q.add_argument("--min", type=int, default=2 * 1024)
        q.add_argument("--max", type=int, default=2 * 1024 * 1024)
        q.add_argument("--seed", type=int, default=20250901)

    q = sub.add_parser("seed")
    q.add_argument("--maildir", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--gpg-home", required=True)
    q.add_argument("--recipient", required=True)
    generator(q)
    q = sub.add_parser("check")
    q.add_argument("--near", required=True, help="the Maildir folder mbsync wrote (with cur/ and new/)")
    q.add_argument("--manifest", required=True)
    q.add_argument("--path", required=True, choices=("proxy", "stunnel"))
    q = sub.add_parser("gpg-time")
    q.add_argument("--payloads", required=True)
    q.add_argument("--scratch", required=True)
    q.add_argument("--gpg-home", required=True)
    q.add_argument("--passphrase-file", required=True)
    q = sub.add_parser("big")
    q.add_argument("--maildir", required=True)
    q.add_argument("--gpg-home", required=True)
    q.add_argument("--recipient", required=True)
    q.add_argument("--mb", type=int, default=50)
    q.add_argument("--seed", type=int, default=20250901)
    a = p.parse_args()
    return {"seed": cmd_seed, "check": cmd_check, "gpg-time": cmd_gpg_time, "big": cmd_big}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
