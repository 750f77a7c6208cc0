"""How long a transfer may still run, and how far the student may extend it (WCAG 2.2.1 Timing Adjustable)."""

import datetime as dt

from .transfer import Transfer


def latest_expiry(transfer: Transfer, max_lifetime: dt.timedelta) -> dt.datetime:
    return transfer.created_at + max_lifetime


def extended_expiry(transfer: Transfer, now: dt.datetime, ttl: dt.timedelta,
                    max_lifetime: dt.timedelta) -> dt.datetime | None:
    """The new expiry: a fresh `ttl` from now, never beyond the cap; None when it would not move (cap reached)."""
    candidate = min(now + ttl, latest_expiry(transfer, max_lifetime))
    return candidate if candidate > transfer.expires_at else None


def can_extend(transfer: Transfer, max_lifetime: dt.timedelta) -> bool:
    return transfer.expires_at < latest_expiry(transfer, max_lifetime)
