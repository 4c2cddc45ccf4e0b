"""The sidecar example's application: mail through the mailproxy service next to it.

It logs in with the account's local password (the Docker secret it shares with the proxy), sends a message to the
account itself through the proxy's SMTP port and reads it back through its IMAP port, both over STARTTLS with the
proxy's certificate checked. The provider only ever sees the message encrypted; this program sees the plaintext.
Settings come from the environment: MAIL_ADDRESS, MAILPROXY_HOST (default mailproxy), MAILPROXY_CA_FILE (the
certificate the proxy presents; default /run/secrets/mailproxy-tls-cert).
"""
import email
import email.policy
import imaplib
import os
import smtplib
import ssl
import sys
import time
import uuid
from email.message import EmailMessage

HOST = os.environ.get("MAILPROXY_HOST", "mailproxy")
ADDRESS = os.environ["MAIL_ADDRESS"]
CA_FILE = os.environ.get("MAILPROXY_CA_FILE", "/run/secrets/mailproxy-tls-cert")
PASSWORD_FILE = os.environ.get("MAILPROXY_LOCAL_PASSWORD_FILE", "/run/secrets/mailproxy-local-password")


def local_password():
    with open(PASSWORD_FILE, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n")


def tls():
    return ssl.create_default_context(cafile=CA_FILE)


def wait_for_proxy(deadline):
    """The proxy needs a few seconds after its container starts (key, stored passwords, JVM)."""
    while True:
        try:
            with smtplib.SMTP(HOST, 1025, timeout=10) as smtp:
                smtp.noop()
                return
        except OSError as e:
            if time.monotonic() > deadline:
                raise SystemExit(f"app: the proxy at {HOST}:1025 did not answer: {e}")
            time.sleep(1)


def main():
    password = local_password()
    wait_for_proxy(time.monotonic() + 180)
    marker = f"sidecar-app-{uuid.uuid4()}"
    msg = EmailMessage()
    msg["From"] = ADDRESS
    msg["To"] = ADDRESS
    msg["Subject"] = f"hello from the app {marker}"
    msg["Message-ID"] = f"<{marker}@app.example>"
    msg.set_content(f"Sent through the mailproxy sidecar: {marker}\n")
    with smtplib.SMTP(HOST, 1025, timeout=60) as smtp:
        smtp.starttls(context=tls())
        smtp.login(ADDRESS, password)
        smtp.send_message(msg)
    print(f"app: sent {marker}", flush=True)

    deadline = time.monotonic() + 60
    with imaplib.IMAP4(HOST, 1143, timeout=60) as imap:
        imap.starttls(ssl_context=tls())
        imap.login(ADDRESS, password)
        while True:
            imap.select("INBOX", readonly=True)
            _, data = imap.search(None, "HEADER", "Message-ID", f"<{marker}@app.example>")
            if data[0]:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"app: {marker} did not arrive")
            time.sleep(1)
        num = data[0].split()[0]
        _, fetched = imap.fetch(num, "(BODY.PEEK[])")
    read = email.message_from_bytes(fetched[0][1], policy=email.policy.default)
    body = read.get_body(preferencelist=("plain",))
    if read["Subject"] != msg["Subject"] or body is None or marker not in body.get_content():
        raise SystemExit(f"app: the message read back ({read.get_content_type()}, Subject {read['Subject']!r}) "
                         "is not the one sent")
    print(f"app: read back {marker} in plaintext", flush=True)


if __name__ == "__main__":
    sys.exit(main())
