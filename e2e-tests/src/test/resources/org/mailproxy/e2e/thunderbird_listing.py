"""Python's imaplib replays how Thunderbird lists and opens a folder, for the decrypted-view end-to-end tests.

usage: thunderbird_listing.py HOST IMAP_PORT USER FOLDER
The password is read from stdin. Writes one line per message to stdout (UID order), fields separated by tabs:
uid, listed_size (RFC822.SIZE of the listing), header_fields (base64 of the BODY[HEADER.FIELDS (...)] literal),
opened_size (RFC822.SIZE when opened) and message (base64 of BODY[] when opened).
"""
import base64
import imaplib
import re
import sys

# The fields Thunderbird asks for when it lists a folder (its default mailnews.customDBHeaders empty).
FIELDS = ("From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To "
          "Content-Type Reply-To")
ITEM = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)")


def items(head):
    uid = size = None
    for m in ITEM.finditer(head):
        if m.group(1):
            uid = int(m.group(1))
        else:
            size = int(m.group(2))
    return uid, size


def literals(data):
    """(uid, size, literal) for each FETCH response carrying one literal."""
    out = []
    for d in data:
        if isinstance(d, tuple):
            uid, size = items(d[0])
            out.append((uid, size, d[1]))
    return out


def main():
    host, port, user, folder = sys.argv[1:5]
    password = sys.stdin.readline().rstrip("\n")
    client = imaplib.IMAP4(host, int(port), timeout=60)
    client.capability()
    client.login(user, password)
    typ, _ = client.list('""', "*")
    if typ != "OK":
        sys.exit("LIST failed")
    typ, _ = client.select('"%s"' % folder)
    if typ != "OK":
        sys.exit("SELECT failed")
    typ, _ = client.uid("FETCH", "1:*", "(FLAGS)")
    if typ != "OK":
        sys.exit("FETCH FLAGS failed")
    typ, data = client.uid("FETCH", "1:*", "(UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (%s)])" % FIELDS)
    if typ != "OK":
        sys.exit("listing failed: %r" % data)
    for uid, size, fields in literals(data):
        typ, opened = client.uid("FETCH", str(uid), "(UID RFC822.SIZE BODY.PEEK[])")
        if typ != "OK":
            sys.exit("opening %d failed" % uid)
        got = literals(opened)
        if len(got) != 1:
            sys.exit("opening %d: %r" % (uid, opened))
        print("\t".join([str(uid), str(size), base64.b64encode(fields).decode("ascii"), str(got[0][1]),
                         base64.b64encode(got[0][2]).decode("ascii")]))
    client.logout()


if __name__ == "__main__":
    main()
