"""Digest emails: a multipart/alternative message and an SMTP send.

The message is rebuilt from the outbox row (Message-ID, Date, subject, both bodies), so a
retry sends the same message. The password is read from the environment at send time and
scrubbed from any error text, which ends up in the database and the log.
"""

from __future__ import annotations

import dataclasses
import json
import smtplib
import ssl
import textwrap
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from watcher.config import Config, EmailSettings
from watcher.digest.channels import Channel, DeliveryError, Sender
from watcher.store import parse_ts


def build_message(settings: EmailSettings, row: dict) -> EmailMessage:
    """The email for an outbox row: plain text first, HTML as the preferred alternative."""
    msg = EmailMessage()
    set_subject(msg, row["subject"])
    msg["From"] = settings.from_addr
    msg["To"] = ", ".join(settings.to)
    msg["Date"] = format_datetime(parse_ts(row["created_at"]))
    msg["Message-ID"] = row["message_id"]
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(wrap_text(row["body_text"] or ""), subtype="plain", charset="utf-8")
    msg.add_alternative(row["body_html"] or "", subtype="html", charset="utf-8")
    return msg


def set_subject(msg: EmailMessage, subject: str) -> None:
    """The Subject, folded at 78 columns. A non-ASCII subject is encoded here, whole, as
    RFC 2047 words: the email package's own folding can emit an empty encoded word
    (``=?utf-8?q??=``) before a non-ASCII character that falls at a fold, which some
    clients show as garbage."""
    subject = " ".join(subject.split())  # no header injection from a value with a newline
    if subject.isascii():
        msg["Subject"] = subject
    else:
        msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())


WIDTH = 78  # RFC 5322's line length for text a person reads


def wrap_text(text: str, width: int = WIDTH) -> str:
    """The plain-text part wrapped at ``width``: a long line continues under its own indent
    (under the text of a "• " item); a word longer than the line (a URL) stays whole."""
    out = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        hanging = indent + ("  " if line.lstrip().startswith(("• ", "- ")) else "")
        out.extend(textwrap.wrap(line.strip(), width, initial_indent=indent, subsequent_indent=hanging,
                                 break_long_words=False, break_on_hyphens=False) or [""])
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def send(settings: EmailSettings, msg: EmailMessage, delivered: list[str] | None = None) -> None:
    """Hand the message to the SMTP server for every recipient not in ``delivered`` (those
    had it from an earlier attempt); returns only when the server accepted it for all of
    them. Raises :class:`DeliveryError` otherwise, naming those it did accept."""
    password = settings.password()
    recipients = [r for r in settings.to if r not in (delivered or [])]
    if not recipients:
        return
    try:
        _send(settings, msg, password, recipients)
    except DeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as err:
        raise DeliveryError(_scrub(f"recipients refused: {', '.join(err.recipients)}", password)) from None
    except (smtplib.SMTPException, OSError) as err:  # ssl errors and timeouts are OSErrors
        where = f"{settings.host}:{settings.port}"
        raise DeliveryError(_scrub(f"SMTP {where}: {type(err).__name__}: {err}", password)) from None


def _send(settings: EmailSettings, msg: EmailMessage, password: str | None, recipients: list[str]) -> None:
    context = ssl.create_default_context()
    if settings.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        client.ehlo()
        if settings.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if settings.username:
            if not password:
                raise DeliveryError(
                    f"email.username is set but the environment variable {settings.password_env or '(password_env unset)'} "
                    "holding the password is empty"
                )
            client.login(settings.username, password)
        refused = client.send_message(msg, settings.from_addr, recipients)
        if refused:
            raise DeliveryError(f"recipients refused: {', '.join(sorted(refused))}",
                                delivered=[r for r in recipients if r not in refused])


def _scrub(text: str, password: str | None) -> str:
    return text.replace(password, "***") if password else text


def _sender(config: Config, recipient: str | None, fmt: str, console: Any) -> Sender:
    """The [digest] lane sends to every ``email.to``; a subscription lane to its one
    recipient, through the same server."""
    if config.email is None:
        raise DeliveryError("the email channel needs an [email] table in the config" if recipient is None
                            else "subscription email needs an [email] table (the server)")
    settings = config.email if recipient is None else dataclasses.replace(config.email, to=[recipient])

    def send_email(row: dict) -> None:
        # a recipient the server already accepted (``delivered_to``) is not sent it again
        delivered = json.loads(row.get("delivered_to") or "[]")
        send(settings, build_message(settings, row), delivered)
    return send_email


CHANNEL = Channel("email", _sender,
                  sender_address=lambda config: config.email.from_addr if config.email else None)
