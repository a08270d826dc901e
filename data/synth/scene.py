"""Drawing one synthetic box scene: the box, its contents, the light and the camera, with exact ground truth.

All geometry is in the box frame of shared/conventions.md: origin at an inner floor corner, x along
L, y along W, z up, floor z = 0, rim z = H. The box's floor slab and walls have thickness t, so the
box stands on the ground plane z = -t.

Contents are cuboids dropped onto the current height map (each lands on the highest thing under its
footprint, choosing the lowest of a few candidate spots, as a packer would), optionally on top of a
loose bulk fill (a noisy triangulated height field); overfilled scenes get an item that sticks out or a
board leaning over the rim. The fill ground truth is the mean of min(h, H) / H over the floor, where h
is the highest content surface, sampled on a grid of `FILL_CELL_M` cells (exact for flat-topped items up
to the cell edges; leaning boards are ray cast).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from configs import SynthConfig
from data.corners import canonical_order
from data.synth import raycast
from data.synth.textures import TextureBank, tileable_noise

FILL_CELL_M = 0.003  # ground-truth height-map cell
PLACE_CELL_M = 0.01  # height-map cell used while placing items (speed; the ground truth uses FILL_CELL_M)
OVERFILL_MARGIN_M = 0.01  # conventions: content more than 1 cm above the rim is overfill


@dataclass
class Material:
    texture: int  # id in the texture bank
    tint: np.ndarray  # (3,) linear RGB multiplier
    ppm: float  # texels per metre
    offset: np.ndarray  # (2,) texel offset
    specular: float = 0.0  # Blinn-Phong strength, 0..1


@dataclass
class Decal:
    """A texture pasted on one face of one solid, in that face's (u, v) metres."""

    prim: int
    face: int
    rect: tuple[float, float, float, float]  # u0, v0, u1, v1
    texture: int


@dataclass
class Scene:
    L: float
    W: float
    H: float
    t: float
    obb_c: list = field(default_factory=list)
    obb_r: list = field(default_factory=list)
    obb_e: list = field(default_factory=list)
    materials: list = field(default_factory=list)
    content: list = field(default_factory=list)  # True for items (what counts towards fill)
    footprints: list = field(default_factory=list)  # flat-topped items: (cx, cy, a, b, yaw, top z)
    leaning: list = field(default_factory=list)  # solid ids of tilted items (ray cast for the ground truth)
    decals: list = field(default_factory=list)
    hf: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))  # bulk height field, (ny+1, nx+1)
    hf_geo: np.ndarray = field(default_factory=lambda: np.zeros(5))  # x0, y0, cell w, cell h, zmax
    hf_material: Material | None = None
    ground_material: Material | None = None
    fill: float = 0.0
    overfill: bool = False
    top_visible: float = 1.0  # share of the floor whose highest content surface the camera sees
    max_content_z: float = 0.0
    kind: str = "empty"
    open: bool = True  # False for a closed box or a scene without a box: nothing to measure (nie fill: no_box)
    truth_heights: _HeightMap | None = None  # the ground-truth height map the fill was read from (data/synth/fill_grid.py reuses it)
    # light
    light: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 1.0]))
    ambient: float = 0.4
    sun_colour: np.ndarray = field(default_factory=lambda: np.ones(3))
    sky_colour: np.ndarray = field(default_factory=lambda: np.ones(3))
    # camera
    cam: np.ndarray = field(default_factory=lambda: np.zeros(3))
    R_cw: np.ndarray = field(default_factory=lambda: np.eye(3))
    K: np.ndarray = field(default_factory=lambda: np.eye(3))
    width: int = 256
    height: int = 192

    @property
    def ground_z(self) -> float:
        return -self.t

    def add_solid(self, c, R, e, material: Material, content: bool = False) -> int:
        self.obb_c.append(np.asarray(c, float))
        self.obb_r.append(np.asarray(R, float))
        self.obb_e.append(np.asarray(e, float))
        self.materials.append(material)
        self.content.append(content)
        return len(self.obb_c) - 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(self.obb_c)
        c = np.array(self.obb_c, float).reshape(n, 3)
        r = np.array(self.obb_r, float).reshape(n, 3, 3)
        e = np.array(self.obb_e, float).reshape(n, 3)
        return c, r, e

    def rim_corners_world(self) -> np.ndarray:
        """The 4 inner rim corners (box frame), counter-clockwise seen from above."""
        L, W, H = self.L, self.W, self.H
        return np.array([[0, 0, H], [L, 0, H], [L, W, H], [0, W, H]], float)

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points -> (pixel coordinates (N, 2), z-depth (N,))."""
        cam_pts = (np.asarray(pts, float) - self.cam) @ self.R_cw  # rows: R_cw^T (p - cam)
        z = cam_pts[:, 2]
        uv = (cam_pts[:, :2] / z[:, None]) * np.array([self.K[0, 0], self.K[1, 1]]) + np.array([self.K[0, 2], self.K[1, 2]])
        return uv, z

    def corners_image(self) -> np.ndarray:
        uv, _ = self.project(self.rim_corners_world())
        return canonical_order(uv)


def _rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _uniform(rng: np.random.Generator, lohi: tuple[float, float]) -> float:
    return float(rng.uniform(lohi[0], lohi[1])) if lohi[1] > lohi[0] else float(lohi[0])


def _material(rng, bank: TextureBank, kind: str, tint=None, ppm: float = 400.0, specular: float = 0.0) -> Material:
    return Material(bank.pick(rng, kind), np.ones(3) if tint is None else np.asarray(tint, float), ppm,
                    rng.uniform(0, 256, 2), specular)


def _item_tint(rng) -> np.ndarray:
    hsv_h = rng.uniform(0, 1)
    sat = rng.uniform(0.2, 0.9)
    val = rng.uniform(0.35, 1.0)
    i = int(hsv_h * 6) % 6
    f = hsv_h * 6 - int(hsv_h * 6)
    p, q, t = val * (1 - sat), val * (1 - f * sat), val * (1 - (1 - f) * sat)
    rgb = [(val, t, p), (q, val, p), (p, val, t), (p, q, val), (t, p, val), (val, p, q)][i]
    return np.power(np.array(rgb), 2.2)


# ----------------------------------------------------------------------------------------------
# The box
# ----------------------------------------------------------------------------------------------
def _close_flaps(scene: Scene, rng, card: Material) -> None:
    """Four flaps folded shut over the opening (the long ones on top, meeting in the middle): a closed parcel."""
    L, W, H, t = scene.L, scene.W, scene.H, scene.t
    eye = np.eye(3)
    scene.add_solid([L / 4, W / 2, H + t / 2], eye, [L / 4 - 0.002, W / 2, t / 2], card)  # short flaps, lower layer
    scene.add_solid([3 * L / 4, W / 2, H + t / 2], eye, [L / 4 - 0.002, W / 2, t / 2], card)
    lift = t * rng.uniform(1.0, 1.6)  # the long flaps lie on them, not quite flat
    scene.add_solid([L / 2, W / 4, H + t / 2 + lift], eye, [L / 2 + t, W / 4 - 0.001, t / 2], card)
    scene.add_solid([L / 2, 3 * W / 4, H + t / 2 + lift], eye, [L / 2 + t, W / 4 - 0.001, t / 2], card)


def _clutter(scene: Scene, rng, bank: TextureBank) -> None:
    """A scene without a box: a few loose items on the ground where the box would stand."""
    L, W = scene.L, scene.W
    for _ in range(int(rng.integers(0, 5))):
        a, b, c = rng.uniform(0.03, 0.25, 3)
        centre = [rng.uniform(-0.3, 1.3) * L, rng.uniform(-0.3, 1.3) * W, scene.ground_z + c]
        scene.add_solid(centre, _rot_z(rng.uniform(0, 2 * math.pi)), [a, b, c], _material(rng, bank, "item", tint=_item_tint(rng)))


def _build_box(scene: Scene, cfg: SynthConfig, rng, bank: TextureBank) -> None:
    L, W, H, t = scene.L, scene.W, scene.H, scene.t
    card = _material(rng, bank, "cardboard", tint=1 + rng.normal(0, 0.05, 3), ppm=rng.uniform(250, 450))
    eye = np.eye(3)
    scene.add_solid([L / 2, W / 2, -t / 2], eye, [L / 2 + t, W / 2 + t, t / 2], card)  # floor slab
    walls = [
        ([-t / 2, W / 2, H / 2 - t / 2], [t / 2, W / 2 + t, H / 2 + t / 2]),  # x = 0 side
        ([L + t / 2, W / 2, H / 2 - t / 2], [t / 2, W / 2 + t, H / 2 + t / 2]),  # x = L side
        ([L / 2, -t / 2, H / 2 - t / 2], [L / 2, t / 2, H / 2 + t / 2]),  # y = 0 side
        ([L / 2, W + t / 2, H / 2 - t / 2], [L / 2, t / 2, H / 2 + t / 2]),  # y = W side
    ]
    wall_ids = [scene.add_solid(c, eye, e, card) for c, e in walls]
    # outer faces: (prim, face id, along-wall half length, outward normal)
    outer = [(wall_ids[0], 0, W / 2 + t), (wall_ids[1], 1, W / 2 + t), (wall_ids[2], 2, L / 2), (wall_ids[3], 3, L / 2)]
    if rng.random() < cfg.label_prob:
        prim, face, half = outer[int(rng.integers(4))]
        size = min(0.8 * H, 0.6 * 2 * half, rng.uniform(0.08, 0.16))
        u0 = rng.uniform(0.1 * 2 * half, 2 * half - size - 0.1 * 2 * half) if 2 * half > size * 1.3 else 0.0
        v0 = rng.uniform(0.1 * H, max(0.1 * H, H - size - 0.05))
        scene.decals.append(Decal(prim, face, (u0, v0, u0 + size, v0 + size * rng.uniform(0.6, 1.0)), bank.pick(rng, "label")))
    tape_tex = bank.pick(rng, "tape") if rng.random() < cfg.tape_prob else -1
    if tape_tex >= 0:
        width = rng.uniform(0.045, 0.06)
        drop = rng.uniform(0.04, 0.08)
        for prim, face, half in outer[2:]:  # tape over the middle of the long walls
            u0 = half - width / 2
            scene.decals.append(Decal(prim, face, (u0, H + t - drop, u0 + width, H + t), tape_tex))
    if rng.random() < cfg.flaps_prob:
        depth = W / 2
        # side: (hinge point on the outer top edge, outward normal, edge direction, edge length)
        sides = [
            (np.array([-t, W / 2, H]), np.array([-1.0, 0, 0]), np.array([0, 1.0, 0]), W + 2 * t),
            (np.array([L + t, W / 2, H]), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), W + 2 * t),
            (np.array([L / 2, -t, H]), np.array([0, -1.0, 0]), np.array([1.0, 0, 0]), L + 2 * t),
            (np.array([L / 2, W + t, H]), np.array([0, 1.0, 0]), np.array([1.0, 0, 0]), L + 2 * t),
        ]
        up = np.array([0, 0, 1.0])
        for hinge, out, along, length in sides:
            if rng.random() < 0.1:
                continue  # a flap torn off
            a = math.radians(_uniform(rng, cfg.flap_angle_deg))
            u = math.sin(a) * out + math.cos(a) * up  # along the flap, away from the hinge
            w = -math.cos(a) * out + math.sin(a) * up  # across its thickness
            centre = hinge + u * depth / 2 + w * t / 2
            R = np.stack([u, along, w], axis=1)
            prim = scene.add_solid(centre, R, [depth / 2, length / 2 - 0.002, t / 2], card)
            if tape_tex >= 0 and abs(out[1]) > 0:
                # tape continues along the middle of the long flaps (local x runs from the hinge)
                for face in (4, 5):
                    scene.decals.append(Decal(prim, face, (0.0, length / 2 - 0.025, depth * rng.uniform(0.3, 0.6), length / 2 + 0.025), tape_tex))


# ----------------------------------------------------------------------------------------------
# Contents
# ----------------------------------------------------------------------------------------------
class _HeightMap:
    """Highest content surface on a regular grid over the floor."""

    def __init__(self, L: float, W: float, cell: float):
        self.nx = max(2, int(math.ceil(L / cell)))
        self.ny = max(2, int(math.ceil(W / cell)))
        self.dx, self.dy = L / self.nx, W / self.ny
        self.xs = (np.arange(self.nx) + 0.5) * self.dx
        self.ys = (np.arange(self.ny) + 0.5) * self.dy
        self.h = np.zeros((self.ny, self.nx))

    def footprint(self, cx, cy, a, b, yaw) -> tuple[slice, slice, np.ndarray]:
        """Window and mask of cells whose centres lie in the rotated a x b rectangle at (cx, cy)."""
        c, s = math.cos(yaw), math.sin(yaw)
        hx = abs(a / 2 * c) + abs(b / 2 * s)
        hy = abs(a / 2 * s) + abs(b / 2 * c)
        i0, i1 = max(0, int((cx - hx) / self.dx)), min(self.nx, int(math.ceil((cx + hx) / self.dx)))
        j0, j1 = max(0, int((cy - hy) / self.dy)), min(self.ny, int(math.ceil((cy + hy) / self.dy)))
        X = self.xs[i0:i1][None, :] - cx
        Y = self.ys[j0:j1][:, None] - cy
        lx = X * c + Y * s
        ly = -X * s + Y * c
        mask = (np.abs(lx) <= a / 2) & (np.abs(ly) <= b / 2)
        return slice(j0, j1), slice(i0, i1), mask

    def fill(self, H: float) -> float:
        return float(np.minimum(self.h, H).mean() / H)

    def raise_to(self, cx, cy, a, b, yaw, top) -> None:
        sy, sx, mask = self.footprint(cx, cy, a, b, yaw)
        window = self.h[sy, sx]
        window[mask] = np.maximum(window[mask], top)


def _bulk(scene: Scene, cfg: SynthConfig, rng, bank: TextureBank, level: float) -> None:
    L, W, H = scene.L, scene.W, scene.H
    cell = rng.uniform(0.012, 0.025)
    nx, ny = max(2, int(round(L / cell))), max(2, int(round(W / cell)))
    amp = rng.uniform(0.03, 0.12) * H
    smooth = tileable_noise(rng, int(rng.integers(2, 5)), size=64)
    yy = (np.arange(ny + 1) / ny * 63).astype(int)
    xx = (np.arange(nx + 1) / nx * 63).astype(int)
    hills = smooth[np.ix_(yy, xx)] - 0.5
    grit = rng.normal(0, rng.uniform(0.002, 0.006), (ny + 1, nx + 1))
    hf = np.clip(level + amp * 2 * hills + grit, 0.0, H)
    scene.hf = hf
    scene.hf_geo = np.array([0.0, 0.0, L / nx, W / ny, float(hf.max())])
    scene.hf_material = _material(rng, bank, "bulk", tint=1 + rng.normal(0, 0.05, 3), ppm=rng.uniform(400, 900))


def _raise_to_bulk(scene: Scene, hmap: _HeightMap) -> None:
    """Raises the map to the exact height of the triangulated bulk surface at its cell centres."""
    hf = scene.hf
    ny, nx = hf.shape[0] - 1, hf.shape[1] - 1
    fx = hmap.xs / scene.hf_geo[2]
    fy = hmap.ys / scene.hf_geo[3]
    i = np.minimum(fx.astype(int), nx - 1)
    j = np.minimum(fy.astype(int), ny - 1)
    tx = (fx - i)[None, :]
    ty = (fy - j)[:, None]
    ii, jj = np.meshgrid(i, j)
    h00, h10, h11, h01 = hf[jj, ii], hf[jj, ii + 1], hf[jj + 1, ii + 1], hf[jj + 1, ii]
    lower = h00 + tx * (h10 - h00) + ty * (h11 - h10)
    upper = h00 + ty * (h01 - h00) + tx * (h11 - h01)
    hmap.h = np.maximum(hmap.h, np.where(tx >= ty, lower, upper))


def _drop_items(scene: Scene, cfg: SynthConfig, rng, bank: TextureBank, hmap: _HeightMap, target: float, allow_over: bool) -> None:
    L, W, H = scene.L, scene.W, scene.H
    side = min(L, W)
    margin = 0.002
    failures = 0
    placed = 0
    scale = 1.0  # shrinks after an item finds no room, so small gaps get filled too
    while placed < cfg.items_max and hmap.fill(H) < target and failures < 30:
        a = _uniform(rng, cfg.item_size_frac) * side * scale
        b = _uniform(rng, cfg.item_size_frac) * side * scale
        c = _uniform(rng, cfg.item_height_frac) * H
        yaw = rng.uniform(-math.pi / 4, math.pi / 4) if rng.random() < cfg.item_yaw_prob else 0.0
        cs, sn = abs(math.cos(yaw)), abs(math.sin(yaw))
        hx, hy = a / 2 * cs + b / 2 * sn, a / 2 * sn + b / 2 * cs
        shrink = min(1.0, (L / 2 - margin) / hx, (W / 2 - margin) / hy)
        a, b, hx, hy = a * shrink, b * shrink, hx * shrink, hy * shrink
        if placed % 4 == 0 or failures:
            st = max(1, int(round(0.03 / hmap.dx)))
            coarse = hmap.h[::st, ::st]
            low = np.flatnonzero(coarse <= np.quantile(coarse, 0.15) + 1e-9)
        best = None
        for k in range(6):
            if k % 2 == 0:  # half the candidates aim at the lowest spots, as a packer would
                j, i = np.unravel_index(low[rng.integers(len(low))], coarse.shape)
                cx, cy = hmap.xs[i * st] + rng.normal(0, hx / 3), hmap.ys[j * st] + rng.normal(0, hy / 3)
            else:
                cx, cy = rng.uniform(0, L), rng.uniform(0, W)
            cx = float(np.clip(cx, hx + margin, L - hx - margin)) if L > 2 * (hx + margin) else L / 2
            cy = float(np.clip(cy, hy + margin, W - hy - margin)) if W > 2 * (hy + margin) else W / 2
            sy, sx, mask = hmap.footprint(cx, cy, a, b, yaw)
            if not mask.any():
                continue
            base = float(hmap.h[sy, sx][mask].max())
            if best is None or base < best[0]:
                best = (base, cx, cy, sy, sx, mask)
        if best is None:
            failures += 1
            continue
        base, cx, cy, sy, sx, mask = best
        if not allow_over:
            c = H - base if rng.random() < target**2 else min(c, H - base)  # fuller boxes: snug items
        if c < 0.01:
            failures += 1
            scale = max(0.3, scale * 0.8)
            continue
        mat = _material(rng, bank, "item", tint=_item_tint(rng), ppm=rng.uniform(300, 700), specular=rng.choice([0.0, 0.0, 0.15, 0.4]))
        scene.add_solid([cx, cy, base + c / 2], _rot_z(yaw), [a / 2, b / 2, c / 2], mat, content=True)
        scene.footprints.append((cx, cy, a, b, yaw, base + c))
        window = hmap.h[sy, sx]
        window[mask] = np.maximum(window[mask], base + c)
        placed += 1


def _pack_items(scene: Scene, cfg: SynthConfig, rng, bank: TextureBank, hmap: _HeightMap, target: float) -> None:
    """A packed box: the floor cut into rows and columns, each cell a stack of items of the cell's size."""
    L, W, H = scene.L, scene.W, scene.H
    nx, ny = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    xcuts = np.concatenate([[0], np.sort(rng.uniform(0, L, nx - 1)), [L]])
    ycuts = np.concatenate([[0], np.sort(rng.uniform(0, W, ny - 1)), [W]])
    base_level = np.array([[hmap.h[hmap.footprint((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, 0.0)[:2]].max()
                            for x0, x1 in zip(xcuts[:-1], xcuts[1:], strict=True)] for y0, y1 in zip(ycuts[:-1], ycuts[1:], strict=True)])
    want = np.clip(target * H * (1 + rng.normal(0, 0.25, base_level.shape)), 0.0, H)
    tint = _item_tint(rng)  # packed products often look alike
    for j in range(ny):
        for i in range(nx):
            x0, x1, y0, y1 = xcuts[i], xcuts[i + 1], ycuts[j], ycuts[j + 1]
            gap = rng.uniform(0.001, 0.006)
            a, b = x1 - x0 - 2 * gap, y1 - y0 - 2 * gap
            if a < 0.02 or b < 0.02:
                continue
            z = float(base_level[j, i])
            layers = int(rng.integers(1, 4))
            for _ in range(layers):
                c = (want[j, i] - z) / layers if layers > 0 else 0.0
                layers -= 1
                if c < 0.01:
                    break
                item_tint = tint if rng.random() < 0.6 else _item_tint(rng)
                mat = _material(rng, bank, "item", tint=item_tint, ppm=rng.uniform(300, 700), specular=rng.choice([0.0, 0.0, 0.15, 0.4]))
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                scene.add_solid([cx, cy, z + c / 2], np.eye(3), [a / 2, b / 2, c / 2], mat, content=True)
                scene.footprints.append((cx, cy, a, b, 0.0, z + c))
                hmap.raise_to(cx, cy, a, b, 0.0, z + c)
                z += c


def _overfill_item(scene: Scene, cfg: SynthConfig, rng, bank: TextureBank, hmap: _HeightMap) -> None:
    """Something that sticks out over the rim: a board leaning on a wall, or a tall item on top."""
    L, W, H, t = scene.L, scene.W, scene.H, scene.t
    mat = _material(rng, bank, "item", tint=_item_tint(rng), ppm=rng.uniform(300, 700))
    if rng.random() < 0.5:
        a = rng.uniform(0.2, 0.45) * min(L, W)
        b = rng.uniform(0.2, 0.45) * min(L, W)
        cx, cy = rng.uniform(a / 2 + 0.01, L - a / 2 - 0.01), rng.uniform(b / 2 + 0.01, W - b / 2 - 0.01)
        sy, sx, mask = hmap.footprint(cx, cy, a, b, 0.0)
        base = float(hmap.h[sy, sx][mask].max()) if mask.any() else 0.0
        top = max(H + rng.uniform(0.02, 0.12), base + 0.02)
        scene.add_solid([cx, cy, (base + top) / 2], np.eye(3), [a / 2, b / 2, (top - base) / 2], mat, content=True)
        scene.footprints.append((cx, cy, a, b, 0.0, top))
        return
    # a board: foot inside the box on the contents, leaning on the inner rim of one wall
    side = int(rng.integers(4))
    along_len = W if side < 2 else L
    across_len = L if side < 2 else W
    s_along = rng.uniform(0.2, 0.8) * along_len
    d_in = rng.uniform(0.25, 0.6) * across_len  # distance of the foot from the wall
    width = rng.uniform(0.04, 0.14)
    thick = rng.uniform(0.008, 0.03)

    def to_xy(dist_from_wall: float) -> tuple[float, float]:
        return [(dist_from_wall, s_along), (L - dist_from_wall, s_along), (s_along, dist_from_wall), (s_along, W - dist_from_wall)][side]

    fx, fy = to_xy(d_in)
    i, j = min(int(fx / hmap.dx), hmap.nx - 1), min(int(fy / hmap.dy), hmap.ny - 1)
    foot = np.array([fx, fy, hmap.h[j, i]])
    rx, ry = to_xy(-t / 2)
    rim = np.array([rx, ry, H + t + thick / 2])
    u = rim - foot
    length = float(np.linalg.norm(u)) + rng.uniform(0.06, 0.25)
    u /= np.linalg.norm(u)
    along = np.array([0.0, 1.0, 0.0]) if side < 2 else np.array([1.0, 0.0, 0.0])
    w = np.cross(u, along)
    if w[2] < 0:
        w = -w
    centre = foot + u * length / 2 + w * thick / 2
    R = np.stack([u, along, w], axis=1)
    e = np.array([length / 2, width / 2, thick / 2])
    scene.leaning.append(scene.add_solid(centre, R, e, mat, content=True))


def box_corners(c, R, e) -> np.ndarray:
    """The 8 corners (8, 3) of the oriented box with centre c, rotation R (columns: its axes) and half extents e."""
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
    return c + (signs * e) @ R.T


def ground_truth_height(scene: Scene, cell: float = FILL_CELL_M) -> _HeightMap:
    """The highest content surface over the floor on a grid of `cell` metres, from the final geometry."""
    hmap = _HeightMap(scene.L, scene.W, cell)
    if scene.hf.shape[0] > 1:
        _raise_to_bulk(scene, hmap)
    for fp in scene.footprints:
        hmap.raise_to(*fp)
    if scene.leaning:
        c, r, e = scene.arrays()
        ids = np.array(scene.leaning)
        X, Y = np.meshgrid(hmap.xs, hmap.ys)
        flat = hmap.h.reshape(-1).copy()
        raycast.top_surface(X.reshape(-1), Y.reshape(-1), scene.H + 10.0, c[ids], r[ids], e[ids], flat)
        hmap.h = flat.reshape(hmap.h.shape)
    return hmap


def _fill_box(scene: Scene, cfg: SynthConfig, rng, bank: TextureBank) -> None:
    H = scene.H
    hmap = _HeightMap(scene.L, scene.W, PLACE_CELL_M)
    overfill = rng.random() < cfg.overfill_prob
    if overfill:
        target = rng.uniform(0.85, 1.0)
    elif rng.random() < cfg.empty_prob:
        target = 0.0
    else:
        target = _uniform(rng, cfg.fill_target)
    kind = "empty" if target == 0.0 else "items"
    if target > 0 and rng.random() < cfg.bulk_prob:
        kind = "bulk"
        level = target * H * (1.0 if rng.random() < 0.5 else rng.uniform(0.2, 0.9))
        _bulk(scene, cfg, rng, bank, level)
        _raise_to_bulk(scene, hmap)
        if hmap.fill(H) < target:
            kind = "bulk+items"
    if target > 0:
        if rng.random() < cfg.packed_prob:
            kind = kind.replace("items", "packed") if "items" in kind else kind + "+packed"
            _pack_items(scene, cfg, rng, bank, hmap, target)
        else:
            _drop_items(scene, cfg, rng, bank, hmap, target, allow_over=False)
    if overfill:
        _overfill_item(scene, cfg, rng, bank, hmap)
        kind += "+overfill"
    scene.kind = kind
    scene.truth_heights = ground_truth_height(scene)
    scene.fill = scene.truth_heights.fill(H)
    tops = [float(scene.hf.max()) if scene.hf.shape[0] > 1 else 0.0]
    for k, is_content in enumerate(scene.content):
        if is_content:
            tops.append(float(box_corners(scene.obb_c[k], scene.obb_r[k], scene.obb_e[k])[:, 2].max()))
    scene.max_content_z = max(tops)
    scene.overfill = scene.max_content_z > H + OVERFILL_MARGIN_M


# ----------------------------------------------------------------------------------------------
# Light and camera
# ----------------------------------------------------------------------------------------------
def _light(scene: Scene, cfg: SynthConfig, rng) -> None:
    el = math.radians(_uniform(rng, cfg.sun_elevation_deg))
    az = rng.uniform(0, 2 * math.pi)
    scene.light = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    scene.ambient = _uniform(rng, cfg.ambient)
    warm = rng.uniform(-0.08, 0.08)
    scene.sun_colour = np.array([1 + warm, 1.0, 1 - warm])
    scene.sky_colour = np.array([1 - warm / 2, 1.0, 1 + warm / 2])


def _camera(scene: Scene, cfg: SynthConfig, rng) -> None:
    W_img, H_img = cfg.image_width, cfg.image_height
    scene.width, scene.height = W_img, H_img
    fov = math.radians(_uniform(rng, cfg.fov_deg))
    f = (W_img / 2) / math.tan(fov / 2)
    scene.K = np.array([[f, 0, (W_img - 1) / 2], [0, f, (H_img - 1) / 2], [0, 0, 1.0]])
    tilt = math.radians(_uniform(rng, cfg.tilt_deg))
    yaw = math.radians(_uniform(rng, cfg.yaw_deg))
    L, W, H, t = scene.L, scene.W, scene.H, scene.t
    target = np.array([L / 2 + rng.uniform(-0.05, 0.05) * L, W / 2 + rng.uniform(-0.05, 0.05) * W, H * rng.uniform(0.6, 1.0)])
    back = np.array([math.sin(tilt) * math.cos(yaw), math.sin(tilt) * math.sin(yaw), math.cos(tilt)])
    fwd = -back
    heading = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    y_cam = heading - (heading @ fwd) * fwd  # image down points towards the camera's side of the box
    y_cam /= np.linalg.norm(y_cam)
    x_cam = np.cross(y_cam, fwd)
    scene.R_cw = np.stack([x_cam, y_cam, fwd], axis=1)
    box = box_corners(np.array([L / 2, W / 2, (H - t) / 2]), np.eye(3), np.array([L / 2 + t, W / 2 + t, (H + t) / 2]))
    coverage = _uniform(rng, cfg.coverage)
    dist = 2.0 * max(L, W, H) / coverage
    for _ in range(6):  # projected extent scales about as 1 / distance; a few rounds settle it
        scene.cam = target + back * dist
        uv, z = scene.project(box)
        extent = max((uv[:, 0].max() - uv[:, 0].min()) / W_img, (uv[:, 1].max() - uv[:, 1].min()) / H_img)
        dist *= extent / coverage
        dist = max(dist, H + 0.05)
    scene.cam = target + back * dist


def sample_scene(cfg: SynthConfig, rng: np.random.Generator, bank: TextureBank) -> Scene:
    """Draws one scene (geometry, materials, ground truth, light, camera) from `rng`."""
    dims = sorted([_uniform(rng, cfg.box_length_m), _uniform(rng, cfg.box_width_m)], reverse=True)
    scene = Scene(L=dims[0], W=dims[1], H=_uniform(rng, cfg.box_height_m), t=_uniform(rng, cfg.wall_thickness_m))
    scene.ground_material = _material(rng, bank, "ground", tint=1 + rng.normal(0, 0.06, 3), ppm=rng.uniform(120, 300))
    # the draw only happens when negatives are asked for, so default datasets stay byte-identical to earlier ones
    draw = rng.random() if (cfg.no_box_prob or cfg.closed_prob) else 1.0
    if draw < cfg.no_box_prob:
        scene.open, scene.kind = False, "no_box"
        _clutter(scene, rng, bank)
    elif draw < cfg.no_box_prob + cfg.closed_prob:
        scene.open, scene.kind = False, "closed"
        cfg_shut = dataclasses.replace(cfg, flaps_prob=0.0)
        _build_box(scene, cfg_shut, rng, bank)
        _close_flaps(scene, rng, _material(rng, bank, "cardboard", tint=1 + rng.normal(0, 0.05, 3), ppm=rng.uniform(250, 450)))
    else:
        _build_box(scene, cfg, rng, bank)
        _fill_box(scene, cfg, rng, bank)
    _light(scene, cfg, rng)
    _camera(scene, cfg, rng)
    return scene
