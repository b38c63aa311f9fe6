"""Care occasions: festival dates from the maintained `holidays` calendar (lunar dates are never
typed by hand, rules.md), as the small parameter list the SQL marts take."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays

LANGUAGE = "en_US"  # the festival names in rules.yaml care.festivals are the library's en_US names


def festival_dates(names: Iterable[str], years: Iterable[int]) -> list[dict]:
    """The first day of each named festival in each year, as [{name, festival_date}] sorted by date.

    A configured name the calendar knows in none of the years is an error: a silently
    missing festival would mean no greetings."""
    names = list(names)
    calendar = holidays.China(years=list(years), language=LANGUAGE)
    first: dict[tuple[str, int], date] = {}
    for day, label in calendar.items():
        for name in label.split("; "):
            key = (name, day.year)
            if name in names and (key not in first or day < first[key]):
                first[key] = day
    unknown = sorted(set(names) - {name for name, _ in first})
    if unknown:
        raise ValueError(f"care.festivals: not in holidays.China({LANGUAGE}): {', '.join(unknown)}")
    return [{"name": name, "festival_date": day} for (name, _), day in sorted(first.items(), key=lambda kv: kv[1])]


def feedback_params(rules: dict) -> dict:
    """NPS bands, the NPS look-back and the complaint deadline (rules.yaml care), for every mart that reads feedback."""
    care = rules["care"]
    return {
        "promoter_min": int(care["nps"]["promoter_min"]),
        "detractor_max": int(care["nps"]["detractor_max"]),
        "nps_days": int(care["nps"]["lookback_days"]),
        "complaint_resolution_days": int(care["complaint_resolution_days"]),
    }
