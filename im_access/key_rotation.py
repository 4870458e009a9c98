"""Which API keys an operator has on a given day: a pure function of the date and the rotation.

A rotating operator's keys come in generations. Generation k starts on `anchor + k * rotateDays`
and is named by that date; when it starts, its key is created and handed over, and the key of
generation k-1 keeps working for `overlapDays` more, then it is deleted. So on any day there is
one key, or two during an overlap: never more than CAM's two keys per user, never none, and a
scheduled `pulumi up` is all it takes to rotate.

The anchor is derived from the user name (a day within the first period after EPOCH), so the
same operator rotates on the same days on every run, and operators of one stack do not all
rotate at once.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

EPOCH = dt.date(2020, 1, 1)
DEFAULT_ROTATE_DAYS = 90  # CIS and Tencent Cloud Config's cam-user-ak-rotated use 90 days
DEFAULT_OVERLAP_DAYS = 7
MAX_AGE_WITHOUT_ROTATION = 90  # the audit's limit for keys that do not rotate


@dataclass(frozen=True)
class Rotation:
    rotate_days: int = DEFAULT_ROTATE_DAYS
    overlap_days: int = DEFAULT_OVERLAP_DAYS

    @property
    def max_age_days(self) -> int:
        """How old a key of this rotation can get: its period, then the overlap."""
        return self.rotate_days + self.overlap_days


@dataclass(frozen=True)
class KeyGeneration:
    """One key of an operator: the day it is created and the last day it works."""

    starts: dt.date
    last_day: dt.date  # deleted by the first `pulumi up` after it

    @property
    def resource_suffix(self) -> str:
        return f"key-{self.starts.isoformat()}"


def anchor(user_name: str, rotation: Rotation) -> dt.date:
    """The operator's first rotation day: stable for a name (CAM names ignore case), spread over a period."""
    return EPOCH + dt.timedelta(days=zlib.crc32(user_name.casefold().encode()) % rotation.rotate_days)


def generations(user_name: str, rotation: Rotation, today: dt.date) -> list[KeyGeneration]:
    """The keys that exist on `today`, oldest first: the current generation's, and the previous one's
    while its overlap lasts."""
    first = anchor(user_name, rotation)
    period = dt.timedelta(days=rotation.rotate_days)
    overlap = dt.timedelta(days=rotation.overlap_days)
    current = max(0, (today - first).days // rotation.rotate_days)

    def generation(index: int) -> KeyGeneration:
        starts = first + index * period
        return KeyGeneration(starts, starts + period + overlap - dt.timedelta(days=1))

    keys = [generation(current)]
    if current > 0 and today <= generation(current - 1).last_day:
        keys.insert(0, generation(current - 1))
    return keys
