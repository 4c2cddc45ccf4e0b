"""Python's standard-library mail clients (smtplib, imaplib) through mailproxy, for the end-to-end tests.

usage: stdlib_client.py send HOST SMTP_PORT MODE CAFILE USER RCPT MESSAGE_FILE
       stdlib_client.py fetch HOST IMAP_PORT MODE CAFILE USER MESSAGE_ID
MODE is plain, starttls or implicit (how the client talks to the proxy). RCPT may list several addresses,
separated by commas. The password is read from stdin, so it never appears in a process listing.
fetch writes BODY[] of the one message with that Message-ID to stdout.
"""
import imaplib
import smtplib
import ssl
import sys


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def send(host, port, mode, cafile, user, rcpt, message_file, password):
    with open(message_file, "rb") as f:
        message = f.read()
    if mode == "implicit":
        client = smtplib.SMTP_SSL(host, port, local_hostname="client.example.test", timeout=30,
                                  context=tls_context(cafile))
    else:
        client = smtplib.SMTP(host, port, local_hostname="client.example.test", timeout=30)
    with client:
        client.ehlo()
        if mode == "starttls":
            client.starttls(context=tls_context(cafile))
            client.ehlo()
        client.login(user, password)
        refused = client.sendmail(user, rcpt.split(","), message)
        if refused:
            sys.exit("refused: %r" % refused)


def fetch(host, port, mode, cafile, user, message_id, password):
    if mode == "implicit":
        client = imaplib.IMAP4_SSL(host, port, ssl_context=tls_context(cafile), timeout=30)
    else:
        client = imaplib.IMAP4(host, port, timeout=30)
        if mode == "starttls":
            client.starttls(ssl_context=tls_context(cafile))
    client.login(user, password)
    typ, _ = client.select("INBOX", readonly=True)
    if typ != "OK":
        sys.exit("SELECT failed")
    typ, data = client.uid("SEARCH", None, "HEADER", "Message-ID", message_id)
    uids = data[0].split()
    if typ != "OK" or len(uids) != 1:
        sys.exit("SEARCH: %s %r" % (typ, data))
    typ, data = client.uid("FETCH", uids[0], "(BODY.PEEK[])")
    if typ != "OK" or not isinstance(data[0], tuple):
        sys.exit("FETCH: %s %r" % (typ, data))
    sys.stdout.buffer.write(data[0][1])
    sys.stdout.flush()
    client.logout()


def main():
    action, host, port, mode, cafile, user, arg = sys.argv[1:8]
    password = sys.stdin.readline().rstrip("\n")
    if action == "send":
        send(host, int(port), mode, cafile, user, arg, sys.argv[8], password)
    elif action == "fetch":
        fetch(host, int(port), mode, cafile, user, arg, password)
    else:
        sys.exit("unknown action " + action)


if __name__ == "__main__":
    main()
