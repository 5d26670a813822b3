"""The demo's lead images: committed JPEGs (not SVG), and the code that draws them."""

from __future__ import annotations

import re

from PIL import Image

from digest.demo.images import DEMO_IMAGES, IMAGE_DIR, SIZE, draw_demo_image, write_demo_images
from digest.demo.outlets import DEMO_ROOT


def test_every_demo_page_points_at_a_committed_jpeg():
    pages = list(DEMO_ROOT.rglob("*.html"))
    images = set()
    for page in pages:
        images.update(re.findall(r"/static/img/demo/([\w.-]+)", page.read_text()))

    assert pages and images
    for name in images:
        assert name.endswith(".jpg"), name
        with Image.open(IMAGE_DIR / name) as image:
            assert image.format == "JPEG" and image.size == SIZE
    assert not list(IMAGE_DIR.glob("*.svg"))


def test_drawing_gives_every_topic_a_picture(tmp_path):
    written = write_demo_images(tmp_path)

    assert [path.stem for path in written] == [spec.name for spec in DEMO_IMAGES]
    picture = draw_demo_image(DEMO_IMAGES[0])
    # A gradient: the corners differ.
    assert picture.getpixel((0, 0)) != picture.getpixel((SIZE[0] - 1, SIZE[1] - 1))
