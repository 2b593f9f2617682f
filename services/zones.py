"""IANA time zones for people to choose from: grouped by region, and a default per country
(from the tz database's zone.tab, shipped with the tzdata package)."""

from __future__ import annotations

import importlib.resources
from functools import cache
from zoneinfo import available_timezones

# The regions of the tz database people live in (no "Etc/GMT+7": fixed offsets are refused).
REGIONS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe",
           "Indian", "Pacific")


@cache
def zones_by_region() -> dict[str, list[tuple[str, str]]]:
    """{region: [(zone, label)]}, e.g. "Asia": [("Asia/Tokyo", "Tokyo"), …], plus UTC."""
    grouped: dict[str, list[tuple[str, str]]] = {region: [] for region in REGIONS}
    for zone in available_timezones():
        region, _, place = zone.partition("/")
        if region in grouped and place:
            grouped[region].append((zone, place.replace("_", " ")))
    result = {region: sorted(zones, key=lambda z: z[1]) for region, zones in grouped.items()
              if zones}
    result["UTC"] = [("UTC", "UTC")]
    return result


@cache
def _country_zones() -> dict[str, list[str]]:
    try:
        table = importlib.resources.files("tzdata").joinpath("zoneinfo", "zone.tab")
        text = table.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    zones: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        countries, _coordinates, zone, *_ = line.split("\t")
        zones.setdefault(countries, []).append(zone)
    return zones


def country_zone(country: str) -> str | None:
    """The zone of a country that has one zone, or None (a guess would be wrong for some)."""
    zones = _country_zones().get(country.strip().upper(), [])
    return zones[0] if len(zones) == 1 else None
