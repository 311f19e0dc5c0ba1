"""Day, week (Monday first) and month buckets, the same ones the stores group by."""

from __future__ import annotations

from datetime import date, timedelta

from services.analytics.model import Grain, Period


def bucket_start(day: date, grain: Grain) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def bucket_end(start: date, grain: Grain) -> date:
    if grain == "week":
        return start + timedelta(days=6)
    if grain == "month":
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following - timedelta(days=1)
    return start


def buckets(period: Period, grain: Grain) -> list[date]:
    """Every bucket the period touches, in order (the first may start before the period)."""
    out = []
    current = bucket_start(period.start, grain)
    while current <= period.end:
        out.append(current)
        current = bucket_end(current, grain) + timedelta(days=1)
    return out


def auto_grain(period: Period) -> Grain:
    """Days up to two months, weeks up to about half a year, months beyond."""
    if period.days <= 62:
        return "day"
    if period.days <= 190:
        return "week"
    return "month"
