"""The app icons of the PWA manifest, drawn with Pillow (a developer tool: the PNGs are
committed under static/icons/, the node only serves them). ``python -m webui.icons``
redraws them after a change of design.

A white ring (a "cercle") with a dot, on the accent blue of the light theme. The
"maskable" variant keeps the ring inside the central 80 % safe zone, since launchers crop
it to a circle or a squircle; the plain ones fill a rounded square.
"""

from __future__ import annotations

from pathlib import Path

from webui.pwa import ICONS

ICON_DIR = Path(__file__).parent / "static" / "icons"
ACCENT = (11, 92, 173, 255)
WHITE = (255, 255, 255, 255)
#: Drawn this many times larger, then scaled down: Pillow's shapes have no antialiasing.
SUPERSAMPLE = 4


def draw(size: int, maskable: bool) -> object:
    from PIL import Image, ImageDraw

    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=ACCENT)
        ring = big * 0.26  # radius well inside the 40 % safe-zone radius
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=ACCENT)
        ring = big * 0.33
    centre = big / 2
    width = big * 0.075
    pen.ellipse(
        (centre - ring, centre - ring, centre + ring, centre + ring),
        outline=WHITE,
        width=int(width),
    )
    dot = big * 0.075
    pen.ellipse((centre - dot, centre - dot, centre + dot, centre + dot), fill=WHITE)
    # Two colours and their antialiased edges: a 64-colour palette looks the same and
    # weighs a third.
    small = image.resize((size, size), Image.Resampling.LANCZOS)
    return small.quantize(colors=64, method=Image.Quantize.FASTOCTREE)


def main() -> None:
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in ICONS:
        draw(size, maskable).save(ICON_DIR / name, optimize=True)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
