"""A server-rendered SVG bar chart of the monthly kept-rate: no JavaScript, prints well, and a
text table beside it says the same for screen readers."""

from __future__ import annotations

from markupsafe import Markup, escape

from portal.households.models import MonthlyReport
from portal.i18n import _

WIDTH, HEIGHT, PAD = 320, 160, 28


def kept_rate_svg(months: list[MonthlyReport], locale: str) -> Markup:
    shown = months[-12:]
    if not shown:
        return Markup("")
    bar_space = (WIDTH - PAD) / len(shown)
    bar = max(6.0, bar_space * 0.6)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 24}" role="img" '
        f'aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(_("Share of pledges kept per month"))}</title>',
    ]
    for pct in (0, 50, 80, 100):
        y = HEIGHT - pct / 100 * (HEIGHT - 10)
        dash = ' stroke-dasharray="4 3"' if pct == 80 else ""
        parts.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH}" y2="{y:.1f}" '
                     f'stroke="#9aa9a0" stroke-width="1"{dash}/>')
        parts.append(f'<text x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
                     f'fill="#1d2521">{pct}%</text>')
    for i, r in enumerate(shown):
        height = r.rate * (HEIGHT - 10)
        x = PAD + i * bar_space + (bar_space - bar) / 2
        colour = "#1f6b3a" if r.rate >= 0.8 else "#8a6d00"
        parts.append(f'<rect x="{x:.1f}" y="{HEIGHT - height:.1f}" width="{bar:.1f}" '
                     f'height="{height:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{HEIGHT + 16}" text-anchor="middle" '
                     f'font-size="10" fill="#1d2521">{escape(r.month[2:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (all text above is escaped)
