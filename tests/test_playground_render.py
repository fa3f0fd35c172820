"""Tests for nn/playground/render.py: the playground's pictures as PNG bytes, and their size."""

from __future__ import annotations

import struct

import pytest

from nn.playground import Playground, boundary_png, loss_png, neurons_png

pytest.importorskip("matplotlib", reason="the playground's pictures are drawn with matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def small(**settings: object) -> Playground:
    base = {"n_samples": 40, "hidden": [3], "batch_size": None, "learning_rate": 0.3, "seed": 1}
    return Playground(**{**base, **settings})


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels, read from the PNG header (the IHDR chunk)."""
    assert png[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_default_sizes_in_pixels():
    pg = small()
    assert png_size(boundary_png(pg, resolution=10)) == (320, 288)  # 4 x 3.6 inches at 80 dpi
    assert png_size(loss_png(pg)) == (320, 192)
    assert png_size(neurons_png(pg, resolution=5)) == (3 * 72 + 40, 72 + 32)  # 3 neurons, one layer


@pytest.mark.parametrize("scale", [0.5, 2.0, 2.8])
def test_scale_multiplies_the_size_in_pixels(scale):
    pg = small(hidden=[4, 2])
    pictures = {
        "boundary": lambda s: boundary_png(pg, resolution=10, scale=s),
        "loss": lambda s: loss_png(pg, scale=s),
        "neurons": lambda s: neurons_png(pg, resolution=5, scale=s),
    }
    for name, draw in pictures.items():
        (w1, h1), (w, h) = png_size(draw(1.0)), png_size(draw(scale))
        assert w == pytest.approx(w1 * scale, abs=1), name
        assert h == pytest.approx(h1 * scale, abs=1), name
    assert png_size(boundary_png(pg, resolution=10, scale=2.8))[0] == 896  # about 900 px across a notebook


def test_scale_of_the_picture_without_hidden_neurons():
    pg = small(hidden=[])
    assert png_size(neurons_png(pg, scale=2.0)) == tuple(2 * n for n in png_size(neurons_png(pg)))


def test_scale_must_be_a_positive_number():
    pg = small()
    with pytest.raises(ValueError, match=r"scale must be in \(0, 10\], got 0.0"):
        boundary_png(pg, scale=0)
    with pytest.raises(ValueError, match=r"scale must be in \(0, 10\], got -1.0"):
        loss_png(pg, scale=-1)
    with pytest.raises(TypeError, match="scale must be a number, got str"):
        neurons_png(pg, scale="2")
