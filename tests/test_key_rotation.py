"""Which keys exist on which day: at most two, never none, each handed over before the previous ends."""

from __future__ import annotations

import datetime as dt

import pytest

from im_access.key_rotation import EPOCH, Rotation, anchor, generations

DAY = dt.timedelta(days=1)


@pytest.mark.parametrize(("rotate", "overlap"), [(90, 7), (30, 1), (2, 1), (365, 364)])
def test_every_day_has_one_or_two_keys_and_each_key_overlaps_the_next(rotate: int, overlap: int) -> None:
    rotation = Rotation(rotate, overlap)
    start = anchor("im-bot", rotation)
    seen: dict[dt.date, dt.date] = {}
    previous: list[dt.date] = []
    for offset in range(3 * rotate + 5):
        today = start + offset * DAY
        keys = generations("im-bot", rotation, today)
        assert 1 <= len(keys) <= 2, today
        assert all(key.starts <= today <= key.last_day for key in keys)
        for key in keys:
            assert seen.setdefault(key.starts, key.last_day) == key.last_day  # a key's dates never move
        current = [key.starts for key in keys]
        # A key present yesterday is gone only if its successor existed beside it for `overlap` days.
        for gone in set(previous) - set(current):
            assert keys[-1].starts == gone + rotate * DAY and today - keys[-1].starts == overlap * DAY
        previous = current


def test_a_rotation_cycle_day_by_day() -> None:
    rotation = Rotation(90, 7)
    first = anchor("im-bot", rotation)
    assert [k.starts for k in generations("im-bot", rotation, first + 89 * DAY)] == [first]
    two = generations("im-bot", rotation, first + 90 * DAY)
    assert [k.starts for k in two] == [first, first + 90 * DAY]
    assert two[0].last_day == first + 96 * DAY  # the previous key works 7 more days
    assert len(generations("im-bot", rotation, first + 96 * DAY)) == 2
    assert [k.starts for k in generations("im-bot", rotation, first + 97 * DAY)] == [first + 90 * DAY]


def test_the_anchor_is_stable_ignores_case_and_spreads_operators() -> None:
    rotation = Rotation(90, 7)
    assert anchor("IM-Bot", rotation) == anchor("im-bot", rotation)
    anchors = {anchor(f"im-bot-{i}", rotation) for i in range(50)}
    assert len(anchors) > 20 and all(EPOCH <= day < EPOCH + 90 * DAY for day in anchors)


def test_a_key_is_never_older_than_its_period_and_overlap() -> None:
    rotation = Rotation(30, 3)
    start = dt.date(2026, 1, 1)
    for offset in range(200):
        today = start + offset * DAY
        for key in generations("im-bot", rotation, today):
            assert (today - key.starts).days < rotation.max_age_days
