#!/usr/bin/env python3
"""IMAP load client for the relay benchmark.

  idle  : opens --sessions connections (at most --parallel handshakes at a time), each does LOGIN, SELECT INBOX,
          IDLE and waits for the "+" continuation; then prints READY and holds them until a line arrives on stdin
          (or stdin closes), ends each IDLE with DONE, logs out and prints a summary.
  probe : one session: LOGIN, SELECT INBOX (prints EXISTS), FETCH of the first message's size, LOGOUT.
"""
import argparse
import asyncio
import re
import sys
import time


class ImapError(Exception):
    pass


async def read_tagged(reader, tag, timeout):
    """Reads lines (and skips literals) until the tagged reply; returns (status line, untagged lines)."""
    untagged = []
    while True:
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise ImapError(f"connection closed waiting for {tag}")
        m = re.search(rb"\{(\d+)\}\r\n$", line)
        if m:
            await asyncio.wait_for(reader.readexactly(int(m.group(1))), timeout)
        if line.startswith(tag.encode() + b" "):
            if not line.startswith(tag.encode() + b" OK"):
                raise ImapError(line.decode(errors="replace").strip())
            return line, untagged
        untagged.append(line)


async def open_session(host, port, user, password, timeout):
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    greeting = await asyncio.wait_for(reader.readline(), timeout)
    if not greeting.startswith(b"* OK"):
        raise ImapError(f"greeting: {greeting!r}")
    writer.write(f"a1 LOGIN \"{user}\" \"{password}\"\r\n".encode())
    await read_tagged(reader, "a1", timeout)
    writer.write(b"a2 SELECT INBOX\r\n")
    _, untagged = await read_tagged(reader, "a2", timeout)
    exists = next((int(m.group(1)) for l in untagged if (m := re.match(rb"\* (\d+) EXISTS", l))), None)
    return reader, writer, exists


async def idle(args):
    sem = asyncio.Semaphore(args.parallel)
    sessions, failures = [], []

    async def one(n):
        async with sem:
            try:
                reader, writer, _ = await open_session(args.host, args.port, args.user, args.password, args.timeout)
                writer.write(b"a3 IDLE\r\n")
                while True:
                    line = await asyncio.wait_for(reader.readline(), args.timeout)
                    if line.startswith(b"+"):
                        break
                    if not line or line.startswith(b"a3 "):
                        raise ImapError(f"IDLE refused: {line!r}")
                sessions.append((reader, writer))
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ImapError) as e:
                failures.append(f"session {n}: {type(e).__name__}: {e}")

    t0 = time.monotonic()
    await asyncio.gather(*(one(n) for n in range(args.sessions)))
    opened = time.monotonic() - t0
    print(f"READY idling={len(sessions)} failed={len(failures)} open_seconds={opened:.1f}", flush=True)
    for f in failures[:5]:
        print(f"  {f}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)

    closed, broken = 0, 0

    async def close(reader, writer):
        nonlocal closed, broken
        async with sem:
            try:
                writer.write(b"DONE\r\n")
                await read_tagged(reader, "a3", args.timeout)
                writer.write(b"a4 LOGOUT\r\n")
                await read_tagged(reader, "a4", args.timeout)
                closed += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ImapError):
                broken += 1
            finally:
                writer.close()

    await asyncio.gather(*(close(r, w) for r, w in sessions))
    print(f"CLOSED clean={closed} broken={broken}", flush=True)
    return 0 if not failures and not broken else 1


async def probe(args):
    reader, writer, exists = await open_session(args.host, args.port, args.user, args.password, args.timeout)
    writer.write(b"a3 FETCH 1 (RFC822.SIZE)\r\n")
    _, untagged = await read_tagged(reader, "a3", args.timeout)
    size = next((l.decode().strip() for l in untagged if b"RFC822.SIZE" in l), None)
    writer.write(b"a4 LOGOUT\r\n")
    await read_tagged(reader, "a4", args.timeout)
    writer.close()
    print(f"PROBE exists={exists} first={size}", flush=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("idle", "probe"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--parallel", type=int, default=50)
    p.add_argument("--timeout", type=float, default=120)
    args = p.parse_args()
    with open(args.password_file) as f:
        args.password = f.read().strip()
    return asyncio.run(idle(args) if args.mode == "idle" else probe(args))


if __name__ == "__main__":
    sys.exit(main())
