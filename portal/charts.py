"""Server-rendered SVG charts: readable without JavaScript, print well, and always paired
with a table in the page for screen readers (the SVG carries a title)."""

from __future__ import annotations

from markupsafe import Markup, escape

INK, BAR, MUTED, GRID = "#1d2521", "#1f6b3a", "#8a6d00", "#9aa9a0"


def progress_bar(share: float | None, title: str, width: int = 320) -> Markup:
    """A horizontal bar from 0 to 100 % (clipped), with the share written on it."""
    if share is None:
        return Markup("")
    shown = max(0.0, min(share, 1.0))
    return Markup(  # noqa: S704 (every text is escaped)
        f'<svg class="chart chart-bar" viewBox="0 0 {width} 22" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect x="0" y="2" width="{width}" height="18" fill="#e6f2e8" stroke="{GRID}"/>'
        f'<rect x="0" y="2" width="{shown * width:.1f}" height="18" fill="{BAR}"/>'
        f'<text x="{width - 4}" y="15" text-anchor="end" font-size="11" fill="{INK}">'
        f"{share * 100:.0f}%</text></svg>")


def bars(points: list[tuple[str, float]], title: str, width: int = 320,
         height: int = 120, top: float | None = None, reference: float | None = None,
         percent_axis: bool = False) -> Markup:
    """Vertical bars for a short series (e.g. months), labels under each bar.

    ``top`` fixes the scale (e.g. 1.0 for shares); ``reference`` draws a dashed line there
    and colours bars below it differently; ``percent_axis`` labels 0/50/100 %.
    """
    if not points:
        return Markup("")
    top = top or max(max(v for _label, v in points), 1e-9)
    left = 30 if percent_axis else 4
    space = (width - left - 4) / len(points)
    bar = max(4.0, space * 0.6)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 18}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{left}" y1="{height}" x2="{width}" y2="{height}" stroke="{GRID}"/>']
    if percent_axis:
        for share in (0.5, 1.0):
            y = height - share / top * (height - 14)
            parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="9" '
                         f'fill="{INK}">{share * 100:.0f}%</text>')
    if reference is not None:
        y = height - reference / top * (height - 14)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" '
                     f'stroke="{GRID}" stroke-dasharray="4 3"/>')
    for i, (label, value) in enumerate(points):
        h = value / top * (height - 14)
        x = left + i * space + (space - bar) / 2
        colour = MUTED if reference is not None and value < reference else BAR
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" '
                     f'height="{h:.1f}" fill="{colour}"/>')
        if len(points) <= 12:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height + 13}" text-anchor="middle" '
                         f'font-size="9" fill="{INK}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text is escaped)
