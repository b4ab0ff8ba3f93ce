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
         height: int = 120) -> Markup:
    """Vertical bars for a short series (e.g. months), labels under each bar."""
    if not points:
        return Markup("")
    top = max(max(v for _label, v in points), 1e-9)
    pad, space = 4, (width - 8) / len(points)
    bar = max(4.0, space * 0.6)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 18}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="{GRID}"/>']
    for i, (label, value) in enumerate(points):
        h = value / top * (height - 14)
        x = pad + i * space + (space - bar) / 2
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" '
                     f'height="{h:.1f}" fill="{BAR}"/>')
        if len(points) <= 12:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height + 13}" text-anchor="middle" '
                         f'font-size="9" fill="{INK}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text is escaped)
