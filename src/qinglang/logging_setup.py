"""Logging configuration with redaction of personal data.

Minors' resident ID numbers and mobile numbers must never reach a log file, whatever the code
that logs them: a filter on our handlers rewrites every record (message, arguments, exception
and stack text) before it is formatted. Log messages are in English.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

# Resident identity card number (GB 11643): 17 digits and a check character (digit or X).
# `\d` also matches full-width digits, which users type as often as ASCII ones; a longer digit
# run is left to the mobile rule or kept (it is not an ID number).
_ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXxＸｘ](?![\dA-Za-z])")
# Mainland mobile numbers: 1[3-9] and nine more digits, optionally +86/0086 and spaces or
# hyphens between the 3-4-4 groups.
_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[-\s]?)?[1１][3-9３-９]\d(?:[-\s]?\d{4}){2}(?!\d)")

ID_PLACEHOLDER = "[REDACTED-ID]"
MOBILE_PLACEHOLDER = "[REDACTED-MOBILE]"

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_MARK = "_qinglang_handler"


def redact(text: str) -> str:
    """`text` with ID numbers and mobile numbers replaced by redaction markers."""
    return _MOBILE.sub(MOBILE_PLACEHOLDER, _ID_NUMBER.sub(ID_PLACEHOLDER, text))


class RedactingFilter(logging.Filter):
    """Rewrites a record so its formatted message, traceback and stack hold no personal data.

    The message is formatted here (args merged in) and the args dropped, so that no later
    formatting can bring the raw values back.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_qinglang_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:
            # Bad format arguments: keep the template only, never the raw arguments.
            message = f"{record.msg} [unformattable log arguments dropped]"
        record.msg = redact(str(message))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._qinglang_redacted = True
        return True


def make_handler(stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (stderr by default) with the redaction filter and our format."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def configure_logging(level: str | int = "INFO", stream: TextIO | None = None) -> None:
    """Send all logs (ours, uvicorn's, libraries') through one redacting handler on the root.

    Idempotent: calling it again replaces the handler it installed before. Filters on other
    handlers already on the root are added too, so nothing unredacted leaves through them.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(make_handler(stream))
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # uvicorn's loggers propagate to the root when it is started with log_config=None.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).propagate = True
