"""A strict-enough HTML reader for the report tests: balanced tags, and what the page holds."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"meta", "br", "img", "input", "link", "hr", "col", "source", "wbr"}
SVG_LEAVES = {"rect", "line", "path", "circle"}


class PageOutline(HTMLParser):
    """Checks that every element closes in order and collects sections, figures and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.devices: list[str] = []
        self.charts: list[str] = []
        self.svgs = 0
        self.urls: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.urls.append(str(values[name]))
        if "data-device" in values:
            self.devices.append(str(values["data-device"]))
        if "data-chart" in values:
            self.charts.append(str(values["data-chart"]))
        self.svgs += tag == "svg"
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID | SVG_LEAVES:
            self.errors.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.open[-1] if self.open else None}>")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def outline(page: str) -> PageOutline:
    """Parse ``page``; the result's ``errors`` and ``open`` are empty for a well-formed page."""
    parser = PageOutline()
    parser.feed(page)
    parser.close()
    return parser
