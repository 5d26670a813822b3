"""The demo's lead images, drawn with Pillow as JPEG (email clients do not show SVG).

The files are committed under ``static/img/demo/``; this module is how they were
made, so they can be redrawn: ``python -m digest.demo.images``. Each is a
1200×630 picture (the size link previews use): a diagonal gradient, a simple
motif and the topic's name.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

IMAGE_DIR = Path(__file__).resolve().parents[2] / "static" / "img" / "demo"
SIZE = (1200, 630)
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@dataclass(frozen=True)
class DemoImage:
    name: str
    label: str
    top_left: str
    bottom_right: str


DEMO_IMAGES = [
    DemoImage("ai", "Artificial intelligence", "#1d3557", "#457b9d"),
    DemoImage("children", "Children online", "#7f4516", "#bc6c25"),
    DemoImage("chips", "Semiconductors", "#283618", "#606c38"),
    DemoImage("content", "Content policy", "#370617", "#9d0208"),
    DemoImage("cyber", "Cybersecurity", "#0b090a", "#660708"),
    DemoImage("diplomacy", "Digital diplomacy", "#14213d", "#3a5a40"),
    DemoImage("finance", "Digital finance", "#3c096c", "#7b2cbf"),
    DemoImage("health", "Health tech", "#004a52", "#2a8a82"),
    DemoImage("infrastructure", "Infrastructure", "#023047", "#1a7f99"),
    DemoImage("privacy", "Data protection", "#22223b", "#4a4e69"),
    DemoImage("trade", "Trade and markets", "#264653", "#2a9d8f"),
]


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def draw_demo_image(spec: DemoImage) -> Image.Image:
    """One demo picture: gradient, concentric motif, the label in white."""
    width, height = SIZE
    start, end = _rgb(spec.top_left), _rgb(spec.bottom_right)
    # A diagonal gradient from a horizontal and a vertical ramp, blended in one step.
    ramp = Image.linear_gradient("L")  # 256×256, black at the top
    mask = Image.blend(ramp, ramp.rotate(90), 0.5).resize(SIZE)
    image = Image.composite(Image.new("RGB", SIZE, end), Image.new("RGB", SIZE, start), mask)
    draw = ImageDraw.Draw(image)
    centre_x, centre_y = width // 2, 270
    for radius in (150, 100, 50):
        draw.ellipse(
            (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius),
            outline=(241, 250, 238),
            width=8,
        )
    for dx, dy in ((0, -1), (0, 1), (-1, 0), (1, 0)):
        draw.line(
            (centre_x + dx * 170, centre_y + dy * 170, centre_x + dx * 230, centre_y + dy * 230),
            fill=(241, 250, 238),
            width=8,
        )
    font = ImageFont.truetype(str(FONT), 56) if FONT.exists() else ImageFont.load_default(56)
    draw.text((centre_x, 540), spec.label, fill=(255, 255, 255), font=font, anchor="mm")
    return image


def write_demo_images(directory: Path = IMAGE_DIR) -> list[Path]:
    """Draw every demo picture into ``directory`` as ``<name>.jpg``; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for spec in DEMO_IMAGES:
        path = directory / f"{spec.name}.jpg"
        draw_demo_image(spec).save(path, "JPEG", quality=80, optimize=True, progressive=True)
        paths.append(path)
    return paths


if __name__ == "__main__":  # pragma: no cover - a maintenance script
    for written in write_demo_images(Path(sys.argv[1]) if len(sys.argv) > 1 else IMAGE_DIR):
        print(written)
