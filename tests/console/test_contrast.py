"""The stylesheet's colour pairs meet WCAG 2.1 AA contrast (4.5:1 for text)."""

import re

import pytest

from customer_registry.console.pages import STATIC

COLOURS = dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})", (STATIC / "console.css").read_text()))
COLOURS["white"] = "#ffffff"


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("ink", "paper"),
        ("ink", "tint"),
        ("link", "paper"),
        ("white", "link"),
        ("muted", "paper"),
        ("muted", "tint"),
        ("error", "paper"),
        ("ok", "paper"),
        ("white", "ink"),
    ],
)
def test_text_colours_meet_aa_contrast(text: str, background: str) -> None:
    assert _contrast(COLOURS[text], COLOURS[background]) >= 4.5


def test_the_focus_ring_stands_out_from_the_page() -> None:
    # WCAG 1.4.11: 3:1 for the parts of a control.
    assert _contrast(COLOURS["focus"], COLOURS["ink"]) >= 3
