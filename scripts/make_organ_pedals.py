"""Draw the synthetic organ console of the ``expression-pedals`` case (evals/data/organ-pedals.png).

Google's docs show Gemini 3 counting an organ's expression pedals with code execution ("Zoom
into the expression pedals and tell me how many pedals are there?"). No photo can be committed
here, so this script draws one with PIL: a wooden console, a flat pedalboard of long pedals at
the bottom, and above it, in the middle, a group of wide metal expression shoes. The drawing is
deterministic (no randomness), so the PNG is the same bytes on every run. The case's ground
truth is counted from the pixels by its ``reference:`` code, never typed in.

    python scripts/make_organ_pedals.py                    # 3 expression pedals
    python scripts/make_organ_pedals.py --expression 5 --out /tmp/p.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 640, 480
WOOD, WOOD_DARK, SHADOW = (122, 74, 38), (84, 50, 25), (40, 24, 12)
NATURAL, SHARP = (236, 226, 204), (30, 26, 24)
SHOE, SHOE_EDGE = (150, 156, 164), (90, 94, 100)  # brushed metal
PEDALBOARD_KEYS = 30


def draw(expression: int) -> Image.Image:
    """The console with ``expression`` expression pedals (1-8)."""
    img = Image.new("RGB", (WIDTH, HEIGHT), WOOD)
    d = ImageDraw.Draw(img)
    # the console's kick board and side cheeks
    d.rectangle((0, 0, WIDTH, 150), fill=WOOD_DARK)
    d.rectangle((0, 0, 40, HEIGHT), fill=WOOD_DARK)
    d.rectangle((WIDTH - 40, 0, WIDTH, HEIGHT), fill=WOOD_DARK)
    for y in range(20, 150, 26):  # panel lines of the kick board
        d.line((40, y, WIDTH - 40, y), fill=SHADOW, width=1)
    # expression shoes: wide, short, metal, centred above the pedalboard
    shoe_w, gap = 48, 22
    left = (WIDTH - (expression * shoe_w + (expression - 1) * gap)) // 2
    for i in range(expression):
        x = left + i * (shoe_w + gap)
        d.rectangle((x, 170, x + shoe_w, 250), fill=SHOE, outline=SHOE_EDGE, width=3)
        for y in range(180, 245, 10):  # tread grooves
            d.line((x + 8, y, x + shoe_w - 8, y), fill=SHOE_EDGE, width=1)
    # the pedalboard: long thin naturals, shorter dark sharps on top of them
    d.rectangle((40, 285, WIDTH - 40, 470), fill=SHADOW)
    key_w = (WIDTH - 100) / PEDALBOARD_KEYS
    for k in range(PEDALBOARD_KEYS):
        x = 50 + k * key_w
        d.rectangle((round(x), 300, round(x + key_w) - 4, 465), fill=NATURAL)
    for k in range(PEDALBOARD_KEYS - 1):
        if k % 7 in (2, 6):  # the gaps between groups of sharps, as on a pedalboard
            continue
        x = 50 + (k + 0.6) * key_w
        d.rectangle((round(x), 300, round(x + key_w * 0.7), 380), fill=SHARP)
    return img


def main() -> None:
    """Write the PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parents[1] / "evals/data/organ-pedals.png")
    parser.add_argument("--expression", type=int, default=3, choices=range(1, 9),
                        metavar="N", help="expression pedals to draw (1-8; default 3)")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    draw(args.expression).quantize(colors=16).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, {args.expression} "
          "expression pedals)")


if __name__ == "__main__":
    main()
