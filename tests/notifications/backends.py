"""E-mail backends for the tests: a mail server that turns every message
away, and one that does so a given number of times first. Settings name
them (EMAIL_BACKEND), so a worker in the test process uses them too."""

import smtplib
import threading

from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class RefusingEmailBackend(LocmemBackend):
    """Every send fails as a mail server going away does."""

    attempts = 0

    def send_messages(self, messages):
        type(self).attempts += 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class FlakyEmailBackend(LocmemBackend):
    """Fails ``failures_left`` times (a refused connection), then delivers
    to ``mail.outbox`` like the local-memory backend."""

    failures_left = 1

    def send_messages(self, messages):
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            raise ConnectionRefusedError(111, "Connection refused")
        return super().send_messages(messages)


class BlockingEmailBackend(LocmemBackend):
    """Says it is sending (``sending``), then waits for ``finish`` before it
    delivers to ``mail.outbox``: a slow mail server, for overlapping sends."""

    sending = threading.Event()
    finish = threading.Event()

    def send_messages(self, messages):
        type(self).sending.set()
        if not type(self).finish.wait(30):
            raise TimeoutError("the test never let the send finish")
        return super().send_messages(messages)


def all_mail_text() -> list[str]:
    """Subject, text and HTML of every message sent, one string each."""
    texts = []
    for message in mail.outbox:
        parts = [message.subject, message.body]
        parts += [content for content, _ in getattr(message, "alternatives", [])]
        texts.append("\n".join(parts))
    return texts
