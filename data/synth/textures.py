"""Procedural textures for synthetic scenes: cardboard, tape, labels, item prints, ground, bulk fill.

A texture bank is made per dataset seed (so sample i still depends only on (seed, i)); a scene picks textures
and varies their tint and offset. By default every scene of a dataset draws from the seed's one bank; with
`scenes_per_bank` a training set changes banks every so many scenes (bank k of the seed), so a model sees many
cardboards, floors and item prints instead of one draw of 50 textures.
Textures are tileable (noise is made on a wrapped grid) and hold linear albedo in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SIZE = 256  # texels per side

KINDS = ("cardboard", "ground", "item", "bulk", "label", "tape")
_COUNTS = {"cardboard": 6, "ground": 10, "item": 20, "bulk": 5, "label": 6, "tape": 3}


def tileable_noise(rng: np.random.Generator, cells: int, size: int = SIZE) -> np.ndarray:
    """Smooth value noise in [0, 1] that wraps at the edges; `cells` sets its feature count."""
    grid = rng.random((cells, cells)).astype(np.float32)
    pad = np.pad(grid, 2, mode="wrap")
    scale = size / cells
    big = cv2.resize(pad, (int(round(pad.shape[1] * scale)), int(round(pad.shape[0] * scale))), interpolation=cv2.INTER_CUBIC)
    off = int(round(2 * scale))
    return np.clip(big[off : off + size, off : off + size], 0.0, 1.0)


def fractal_noise(rng: np.random.Generator, octaves: tuple[int, ...] = (4, 8, 16, 32, 64)) -> np.ndarray:
    total = np.zeros((SIZE, SIZE), np.float32)
    weight = 0.0
    for i, cells in enumerate(octaves):
        w = 0.55**i
        total += w * tileable_noise(rng, cells)
        weight += w
    return total / weight


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.power(np.clip(c, 0, 1), 2.2)


def cardboard(rng: np.random.Generator) -> np.ndarray:
    base = np.array([0.64, 0.48, 0.31]) + rng.normal(0, 0.04, 3)
    blotch = fractal_noise(rng, (3, 6, 12))
    fibre = tileable_noise(rng, 128)
    stretch = cv2.resize(tileable_noise(rng, 64), (SIZE, SIZE))
    shade = 0.82 + 0.14 * blotch + 0.05 * fibre + 0.03 * np.roll(stretch, 7, axis=0)
    tex = base[None, None, :] * shade[..., None]
    return _srgb_to_linear(tex).astype(np.float32)


def tape(rng: np.random.Generator) -> np.ndarray:
    colours = [(0.72, 0.55, 0.33), (0.85, 0.83, 0.78), (0.55, 0.45, 0.30)]
    base = np.array(colours[int(rng.integers(len(colours)))]) + rng.normal(0, 0.02, 3)
    streak = tileable_noise(rng, 32)
    tex = base[None, None, :] * (0.9 + 0.12 * streak[..., None])
    return _srgb_to_linear(tex).astype(np.float32)


def label(rng: np.random.Generator) -> np.ndarray:
    """A shipping label: white paper, a barcode, text lines and a logo block (drawn in sRGB)."""
    img = np.full((SIZE, SIZE, 3), 0.93 + rng.uniform(-0.04, 0.04), np.float32)
    ink = (0.08, 0.08, 0.09)
    x = 24
    while x < SIZE - 24:  # barcode
        w = int(rng.integers(2, 6))
        if rng.random() < 0.55:
            cv2.rectangle(img, (x, 150), (x + w - 1, 215), ink, -1)
        x += w
    for row in range(5):  # text lines
        y = 28 + row * 22
        length = int(rng.integers(60, 200))
        cv2.rectangle(img, (24, y), (24 + length, y + 8), (0.25, 0.25, 0.27), -1)
    colour = tuple(float(c) for c in rng.uniform(0.1, 0.9, 3))
    cv2.rectangle(img, (180, 24), (232, 76), colour, -1)
    cv2.rectangle(img, (4, 4), (SIZE - 5, SIZE - 5), (0.6, 0.6, 0.6), 2)
    return _srgb_to_linear(img).astype(np.float32)


def item(rng: np.random.Generator) -> np.ndarray:
    """Surfaces of things in boxes: plain, striped, checked, printed, or brown inner boxes."""
    style = rng.integers(5)
    grain = fractal_noise(rng, (8, 32, 64))
    if style == 0:  # plain matte
        tex = np.repeat((0.85 + 0.15 * grain)[..., None], 3, axis=2)
    elif style == 1:  # stripes
        period = int(rng.choice([16, 32, 64]))
        stripes = ((np.arange(SIZE) // (period // 2)) % 2).astype(np.float32)
        tex = np.repeat((0.65 + 0.35 * stripes[None, :] * np.ones((SIZE, 1)))[..., None], 3, axis=2)
        tex *= (0.9 + 0.1 * grain)[..., None]
    elif style == 2:  # checks
        period = int(rng.choice([32, 64]))
        yy, xx = np.mgrid[0:SIZE, 0:SIZE]
        check = (((yy // period) + (xx // period)) % 2).astype(np.float32)
        tex = np.repeat((0.6 + 0.4 * check)[..., None], 3, axis=2) * (0.92 + 0.08 * grain)[..., None]
    elif style == 3:  # printed packaging: blocks and circles of colour
        tex = np.ones((SIZE, SIZE, 3), np.float32) * (0.9 + 0.1 * grain)[..., None]
        for _ in range(int(rng.integers(3, 9))):
            colour = tuple(float(c) for c in rng.uniform(0.05, 1.0, 3))
            if rng.random() < 0.5:
                p = rng.integers(0, SIZE, 2)
                q = p + rng.integers(20, 120, 2)
                cv2.rectangle(tex, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), colour, -1)
            else:
                cv2.circle(tex, tuple(int(v) for v in rng.integers(0, SIZE, 2)), int(rng.integers(10, 50)), colour, -1)
        return _srgb_to_linear(tex).astype(np.float32)
    else:  # an inner cardboard box
        return cardboard(rng)
    return tex.astype(np.float32)  # grey patterns, tinted per item


def ground(rng: np.random.Generator) -> np.ndarray:
    style = rng.integers(4)
    if style == 0:  # wood planks
        base = np.array([0.55, 0.38, 0.22]) + rng.normal(0, 0.05, 3)
        rings = tileable_noise(rng, 4)
        streaks = cv2.resize(tileable_noise(rng, 64)[:, :8], (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
        tex = base[None, None] * (0.75 + 0.2 * rings + 0.12 * streaks)[..., None]
        for y in range(0, SIZE, SIZE // 4):
            tex[y : y + 2] *= 0.45
    elif style == 1:  # concrete
        grey = rng.uniform(0.45, 0.7)
        tex = np.repeat((grey * (0.8 + 0.25 * fractal_noise(rng)))[..., None], 3, axis=2)
        tex *= (1 + rng.normal(0, 0.03, 3))[None, None]
    elif style == 2:  # conveyor belt / rubber mat
        grey = rng.uniform(0.12, 0.3)
        ribs = 0.85 + 0.15 * (np.arange(SIZE) % 16 < 3)[:, None]
        tex = np.repeat((grey * ribs * (0.9 + 0.15 * tileable_noise(rng, 64)))[..., None], 3, axis=2)
    else:  # floor tiles
        base = rng.uniform(0.35, 0.8, 3)
        tex = base[None, None] * (0.88 + 0.12 * fractal_noise(rng))[..., None]
        grout = (np.arange(SIZE) % 128 < 3)
        tex[grout] *= 0.5
        tex[:, grout] *= 0.5
    return _srgb_to_linear(tex).astype(np.float32)


def bulk(rng: np.random.Generator) -> np.ndarray:
    """Loose fill: packing peanuts, shredded paper, granules."""
    palettes = [((0.92, 0.9, 0.82), 0.12), ((0.7, 0.55, 0.35), 0.25), ((0.35, 0.6, 0.3), 0.2), ((0.85, 0.85, 0.88), 0.2),
                ((0.5, 0.3, 0.2), 0.3)]
    colour, contrast = palettes[int(rng.integers(len(palettes)))]
    speckle = tileable_noise(rng, 96) * 0.6 + tileable_noise(rng, 48) * 0.4
    tex = np.array(colour)[None, None] * (1 - contrast + contrast * 1.6 * speckle)[..., None]
    return _srgb_to_linear(tex).astype(np.float32)


_MAKERS = {"cardboard": cardboard, "ground": ground, "item": item, "bulk": bulk, "label": label, "tape": tape}


@dataclass
class TextureBank:
    textures: np.ndarray  # (T, SIZE, SIZE, 3) float32 linear albedo
    index: dict[str, np.ndarray]  # kind -> texture ids

    def pick(self, rng: np.random.Generator, kind: str) -> int:
        ids = self.index[kind]
        return int(ids[rng.integers(len(ids))])


def make_bank(seed: int, bank: int = 0) -> TextureBank:
    """Bank `bank` of the dataset seed; bank 0 is the seed's own (the one a one-bank dataset uses)."""
    rng = np.random.default_rng([seed, 0x7E47] if bank == 0 else [seed, 0x7E47, bank])
    textures, index = [], {}
    for kind in KINDS:
        ids = []
        for _ in range(_COUNTS[kind]):
            ids.append(len(textures))
            textures.append(_MAKERS[kind](rng))
        index[kind] = np.array(ids)
    return TextureBank(np.stack(textures), index)
