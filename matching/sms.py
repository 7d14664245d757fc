"""Text messages to laborers, through a pluggable backend (settings.SMS_BACKEND).

A real gateway implements `SmsBackend.send(phone, message)` and raises `SmsError` when
the gateway refuses; the default backend only logs, so nothing leaves the machine.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from jobmatch.identifiers import mask_phone

logger = logging.getLogger("jobmatch.sms")


class SmsError(Exception):
    """The gateway did not take the message (the notification is kept with the error)."""


class SmsBackend(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class LoggingBackend:
    """Writes each message to the `jobmatch.sms` log, phone masked."""

    def send(self, phone: str, message: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), message)


@cache
def backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()
