"""The table: benchmark, variant, median µs, ratio, target, PASS/MISS."""

from __future__ import annotations

#: as a row's reference: the value is an absolute figure in µs and the target a bound on it, not a ratio
ABSOLUTE = "µs"
#: as a row's reference: the value is a count of round trips, the target a bound on it
ROUND_TRIPS = "round trips"


def render(rows: list[tuple]) -> str:
    header = ("benchmark", "variant", "median µs", "ratio", "target", "result")
    lines = []
    for bench, variant, value, ref, target in rows:
        if ref == ROUND_TRIPS:
            goal = "-" if target is None else f"≤{target} round trips"
            result = "" if target is None else ("PASS" if value <= target else "MISS")
            lines.append((bench, variant, str(value), "-", goal, result))
            continue
        if ref == ABSOLUTE:
            lines.append((bench, variant, f"{value:.1f}", "-", f"≤{target:.0f} µs",
                          "PASS" if value <= target else "MISS"))
            continue
        median = "-" if value is None else f"{value:.1f}"
        ratio = "-" if value is None or not ref else f"{value / ref:.3f}"
        goal = "-" if target is None else f"≤{target:.2f}x"
        if target is None or value is None or not ref:
            result = "skip" if value is None else ""
        else:
            result = "PASS" if value / ref <= target else "MISS"
        lines.append((bench, variant, median, ratio, goal, result))
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header))]
    out = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    previous = None
    for line in lines:
        shown = ("" if line[0] == previous else line[0], *line[1:])
        previous = line[0]
        out.append(" | ".join(str(c).ljust(w) for c, w in zip(shown, widths, strict=True)))
    return "\n".join(out)
