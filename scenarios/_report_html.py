"""Self-contained HTML pages of a scenario report and of the suite report.

Plain HTML with inline CSS; figures are PNG files beside ``index.html`` referenced by
relative name, so the folder can be copied or served as is. All text is escaped.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Iterable
from typing import Any

__all__ = ["fmt", "page", "render_report", "table"]

_CSS = (
    "body{font-family:sans-serif;max-width:1150px;margin:1em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;"
    "padding:.2em .6em;text-align:right}th{background:#eee}td:first-child{text-align:left}"
    ".miss{color:#b00}.ok{color:#070}img{max-width:100%;border:1px solid #ddd}"
    "li{margin:.2em 0}"
)


def fmt(value: Any, digits: int = 4) -> str:
    """Format a number, bool or null for a table cell."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return html.escape(str(value))


def _epoch(value: Any) -> str:
    if value is None:
        return "n/a"
    t = datetime.datetime.fromtimestamp(float(value), tz=datetime.UTC)
    return t.strftime("%Y-%m-%d %H:%M")


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """Return an HTML table; cells are already formatted (escaped) strings."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def page(title: str, body: str) -> str:
    """Wrap a body in a complete HTML document."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>\n"
    )


_ROWS = (
    ("alpha-lambda pass (alpha 0.2, lambda 0.5)", "alpha_lambda_pass"),
    ("prognostic horizon / life (alpha 0.2)", "prognostic_horizon_fraction"),
    ("relative accuracy at half life", "ra_half_life"),
    ("cumulative relative accuracy", "cra"),
    ("convergence [years]", "convergence"),
    ("RUL error at half life [years] (median - truth)", "rul_error_at_half_life"),
    ("coverage of the 50 % interval", "coverage_50"),
    ("coverage of the 80 % interval", "coverage_80"),
    ("coverage of the 90 % interval", "coverage_90"),
    ("mean CRPS [years]", "crps"),
    ("forecasts scored", "scored"),
)


def _buys(m: dict[str, Any]) -> str:
    b = m["baseline"]
    items = []
    if m.get("crps_ratio") is not None:
        items.append(
            f"CRPS of the twin / baseline: <b>{fmt(m['crps_ratio'])}</b> "
            f"({fmt(m['crps'])} vs {fmt(b['crps'])} years; below 1 the twin is better)"
        )
    e_t, e_b = m.get("rul_error_at_half_life"), b.get("rul_error_at_half_life")
    if e_t is not None and e_b is not None:
        items.append(
            f"remaining-life error at half life: twin {fmt(e_t)} years, baseline "
            f"{fmt(e_b)} years (|twin| / |baseline| = "
            f"{fmt(abs(e_t) / abs(e_b)) if e_b else 'n/a'})"
        )
    if not items:
        items.append("not measurable on this run (see the notes)")
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _missed(r: dict[str, Any]) -> list[str]:
    m = r["metrics"]
    out = []
    if m.get("alpha_lambda_pass") is False:
        out.append(
            "alpha-lambda (alpha 0.2) fails at lambda 0.5: the forecast at half life "
            f"has less than half its mass within +-20 % of the true RUL "
            f"(RA there {fmt(m.get('ra_half_life'))})"
        )
    ph = m.get("prognostic_horizon_fraction")
    if ph is not None and ph < 0.5:
        out.append(f"prognostic horizon {fmt(ph)} of the life, below half")
    c90 = m.get("coverage_90")
    if c90 is not None and not 0.85 <= c90 <= 0.95:
        side = "over-confident" if c90 < 0.85 else "under-confident (too wide)"
        out.append(
            f"90 % coverage {fmt(c90)} outside 0.85-0.95: {side} over {m.get('scored')} forecasts"
        )
    ratio = m.get("crps_ratio")
    if ratio is not None and ratio >= 1.0:
        out.append(f"the twin does not beat the baseline on CRPS (ratio {fmt(ratio)})")
    for name, p in r["parameters"].items():
        if not p["inside"]:
            out.append(
                f"{html.escape(name)}: truth {fmt(p['truth'])} outside the final 90 % "
                f"band [{fmt(p['p05'])}, {fmt(p['p95'])}]"
            )
    for f in r["faults"]:
        if f["detected_at"] is None:
            out.append(f"{html.escape(f['kind'])} fault on {html.escape(f['sensor'])} not detected")
    return out


def render_report(report: dict[str, Any], figures: dict[str, str]) -> str:
    """Return the scenario report's ``index.html``.

    Parameters
    ----------
    report : dict
        The report JSON (:func:`scenarios.report.build_report`).
    figures : dict
        Figure key -> PNG file name beside the HTML.

    Returns
    -------
    str
        The HTML document.
    """
    m, b = report["metrics"], report["metrics"]["baseline"]
    sc = report["scenario"]
    life = report["life_years"]
    head = (
        f"<p>scenario <b>{fmt(sc.get('name'))}</b>, seed {fmt(sc.get('seed'))}; true end of "
        f"life {_epoch(report['end_of_life'])}"
        + (
            f" ({fmt(life)} years, {fmt(report.get('mechanism'))})"
            if life is not None
            else " (the truth survived its run)"
        )
        + f"; {report['forecasts']} forecasts.</p>"
    )
    rows = [(html.escape(label), fmt(m.get(k)), fmt(b.get(k))) for label, k in _ROWS]
    body = [
        head,
        "<h2>Headline: twin against the deterministic baseline</h2>",
        table(("metric", "twin", "baseline"), rows),
        "<h2>What assimilation buys</h2>",
        _buys(m),
    ]
    missed = _missed(report)
    body.append("<h2>Targets missed</h2>")
    body.append(
        "<ul>" + "".join(f"<li class='miss'>{x}</li>" for x in missed) + "</ul>"
        if missed
        else "<p class='ok'>none on this run</p>"
    )
    body.append(
        "<h2>Remaining life against the truth (alpha-lambda cone)</h2>"
        f"<img src='{figures['rul']}' alt='remaining life'>"
    )
    prow = [
        (html.escape(k), fmt(p["truth"]), fmt(p["p05"]), fmt(p["p95"]), fmt(p["inside"]))
        for k, p in report["parameters"].items()
    ]
    body += [
        "<h2>Hidden parameters: truth against the posterior</h2>",
        table(("parameter (SI)", "truth", "final p05", "final p95", "inside"), prow),
        f"<img src='{figures['parameters']}' alt='parameters'>",
        "<h2>Damage and wall: truth, twin and baseline</h2>",
        f"<img src='{figures['damage']}' alt='damage'>",
        "<h2>Calibration: PIT histogram</h2>",
        f"<img src='{figures['pit']}' alt='PIT histogram'>",
    ]
    frow = [
        (
            html.escape(f["kind"]),
            html.escape(f["sensor"]),
            _epoch(f["injected_at"]),
            _epoch(f["detected_at"]),
            fmt(None if f["delay_s"] is None else f["delay_s"] / 3600.0),
        )
        for f in report["faults"]
    ]
    body += [
        "<h2>Sensor faults: injected against detected</h2>",
        table(("kind", "sensor", "injected", "detected", "delay [h]"), frow),
        f"<img src='{figures['faults']}' alt='faults'>",
        "<h2>Notes</h2><ul>"
        + "".join(f"<li>{html.escape(n)}</li>" for n in report["notes"])
        + "</ul>",
    ]
    return page(f"Scenario report: {sc.get('name')}", "".join(body))
