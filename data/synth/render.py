"""Rendering a scene: exact ray-cast depth, textured diffuse + ambient light with cast shadows,
adaptive anti-aliasing, and a simple camera model (exposure, vignetting, gamma, sensor noise).

The depth map is the centre ray of each pixel (exact z-depth); colour averages the centre ray with
`aa_samples` extra rays on pixels where the surface, face or shadow changes between neighbours.
"""

from __future__ import annotations

import numpy as np

from configs import SynthConfig
from data.synth import raycast
from data.synth.scene import Scene, box_corners, ground_truth_height
from data.synth.shading import finish_image, shade_hits
from data.synth.textures import TextureBank

# rotated-grid and Halton-like sub-pixel offsets; the first `aa_samples` are used
_AA_OFFSETS = np.array([
    (0.125, 0.375), (0.375, -0.125), (-0.125, -0.375), (-0.375, 0.125),
    (0.25, 0.0), (-0.25, 0.0), (0.0, 0.25), (0.0, -0.25),
    (0.4, 0.4), (-0.4, 0.4), (0.4, -0.4), (-0.4, -0.4),
    (0.1, -0.2), (-0.2, 0.1), (0.3, 0.2), (-0.3, -0.2),
])


def _screen_rects(scene: Scene, c, r, e) -> np.ndarray:
    """Screen rectangle (u0, v0, u1, v1) of every solid, padded; the whole screen if it reaches behind the camera."""
    rects = np.empty((len(c), 4))
    for k in range(len(c)):
        uv, z = scene.project(box_corners(c[k], r[k], e[k]))
        if (z <= 1e-3).any():
            rects[k] = (-1e9, -1e9, 1e9, 1e9)
        else:
            rects[k] = (uv[:, 0].min() - 1, uv[:, 1].min() - 1, uv[:, 0].max() + 1, uv[:, 1].max() + 1)
    return rects


def _light_basis(light: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.array([1.0, 0, 0]) if abs(light[0]) < 0.9 else np.array([0, 1.0, 0])
    a = np.cross(light, helper)
    a /= np.linalg.norm(a)
    return a, np.cross(light, a)


def _light_rects(pts_list, la, lb) -> np.ndarray:
    rects = np.empty((len(pts_list), 4))
    for k, pts in enumerate(pts_list):
        pa, pb = pts @ la, pts @ lb
        rects[k] = (pa.min() - 1e-4, pb.min() - 1e-4, pa.max() + 1e-4, pb.max() + 1e-4)
    return rects


class SceneTracer:
    """Holds a scene's arrays and casts camera rays at arbitrary sub-pixel positions."""

    def __init__(self, scene: Scene):
        self.scene = scene
        self.c, self.r, self.e = scene.arrays()
        self.sbb = _screen_rects(scene, self.c, self.r, self.e)
        self.la, self.lb = _light_basis(scene.light)
        self.lbb = _light_rects([box_corners(self.c[k], self.r[k], self.e[k]) for k in range(len(self.c))], self.la, self.lb)
        self.shadow_caster = np.ones(len(self.c), np.bool_)
        if scene.hf.shape[0] > 1:
            x0, y0, cw, ch, zmax = scene.hf_geo
            ny, nx = scene.hf.shape[0] - 1, scene.hf.shape[1] - 1
            box = box_corners(np.array([x0 + nx * cw / 2, y0 + ny * ch / 2, zmax / 2]), np.eye(3), np.array([nx * cw / 2, ny * ch / 2, zmax / 2]))
            uv, z = scene.project(box)
            self.hf_sbb = np.array([uv[:, 0].min() - 1, uv[:, 1].min() - 1, uv[:, 0].max() + 1, uv[:, 1].max() + 1])
            if (z <= 1e-3).any():
                self.hf_sbb = np.array([-1e9, -1e9, 1e9, 1e9])
            self.hf_lbb = _light_rects([box], self.la, self.lb)[0]
        else:
            self.hf_sbb = np.array([1.0, 1.0, -1.0, -1.0])
            self.hf_lbb = np.array([1.0, 1.0, -1.0, -1.0])
        self.materials = _material_arrays(scene)
        K = scene.K
        self.intr = np.array([K[0, 0], K[1, 1], K[0, 2], K[1, 2]])

    def trace(self, us: np.ndarray, vs: np.ndarray):
        s = self.scene
        return raycast.trace_camera(
            np.ascontiguousarray(us, float), np.ascontiguousarray(vs, float), s.cam, s.R_cw, self.intr, s.ground_z,
            self.c, self.r, self.e, self.sbb, self.lbb, self.shadow_caster, s.hf, s.hf_geo, self.hf_sbb, self.hf_lbb,
            s.light, self.la, self.lb)


def _material_arrays(scene: Scene):
    mats = scene.materials + [scene.hf_material or scene.ground_material, scene.ground_material]
    dec = scene.decals
    return (
        np.array([m.texture for m in mats], np.int64), np.array([m.tint for m in mats], np.float64),
        np.array([m.ppm for m in mats], np.float64), np.array([m.offset for m in mats], np.float64),
        np.array([m.specular for m in mats], np.float64),
        np.array([d.prim for d in dec], np.int64), np.array([d.face for d in dec], np.int64),
        np.array([d.rect for d in dec], np.float64).reshape(len(dec), 4), np.array([d.texture for d in dec], np.int64),
    )


def shade(scene: Scene, tracer: SceneTracer, bank: TextureBank, prim, face, point, normal, lit) -> np.ndarray:
    """Linear RGB (N, 3) of ray hits."""
    return shade_hits(prim, face, point, normal, lit, tracer.c, tracer.r, tracer.e, *tracer.materials, bank.textures,
                      scene.light, scene.ambient, scene.sun_colour, scene.sky_colour, scene.cam,
                      np.array([scene.L, scene.W, scene.H]))


_GRIDS: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _pixel_grid(W: int, H: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates, flattened, cached per image size."""
    if (W, H) not in _GRIDS:
        vv, uu = np.mgrid[0:H, 0:W].astype(np.float64)
        _GRIDS[(W, H)] = (uu.ravel(), vv.ravel())
    return _GRIDS[(W, H)]


def top_visibility(scene: Scene, tracer: SceneTracer, cell: float = 0.01) -> float:
    """Share of the floor (sampled every `cell` metres) whose highest content surface the camera sees.

    Each sample's top point is projected into the image and traced; it is seen when the first hit
    lies within 2 mm of it. Under 1.0 the fill cannot be read from the image alone (narrow gaps
    between tall items, floor hidden behind a wall in oblique views).
    """
    hmap = ground_truth_height(scene, cell)
    X, Y = np.meshgrid(hmap.xs, hmap.ys)
    top = np.stack([X.ravel(), Y.ravel(), np.minimum(hmap.h.ravel(), scene.H)], 1)
    uv, z = scene.project(top)
    on_image = (z > 0) & (uv[:, 0] >= -0.5) & (uv[:, 0] <= scene.width - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] <= scene.height - 0.5)
    depth = tracer.trace(uv[:, 0], uv[:, 1])[0]
    return float(np.mean(on_image & (np.abs(depth - z) < 0.002)))


def render(scene: Scene, cfg: SynthConfig, bank: TextureBank, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Renders the scene. Returns (uint8 RGB (H, W, 3), float32 z-depth in metres (H, W), inf = no hit)."""
    W, H = scene.width, scene.height
    tracer = SceneTracer(scene)
    us, vs = _pixel_grid(W, H)
    depth, prim, face, point, normal, lit = tracer.trace(us, vs)
    scene.top_visible = top_visibility(scene, tracer)
    colour = shade(scene, tracer, bank, prim, face, point, normal, lit).reshape(H, W, 3)
    n_aa = min(cfg.aa_samples, len(_AA_OFFSETS))
    if n_aa > 0:
        key = (prim.astype(np.int64) * 16 + face * 2 + lit).reshape(H, W)
        edge = np.zeros((H, W), bool)
        dh = key[:, 1:] != key[:, :-1]
        dv = key[1:, :] != key[:-1, :]
        edge[:, 1:] |= dh
        edge[:, :-1] |= dh
        edge[1:, :] |= dv
        edge[:-1, :] |= dv
        ys, xs = np.nonzero(edge)
        if len(ys):
            off = _AA_OFFSETS[:n_aa]
            us = (xs[:, None] + off[None, :, 0]).ravel()
            vs = (ys[:, None] + off[None, :, 1]).ravel()
            _, p2, f2, pt2, n2, l2 = tracer.trace(us, vs)
            extra = shade(scene, tracer, bank, p2, f2, pt2, n2, l2).reshape(len(ys), n_aa, 3)
            colour[ys, xs] = (colour[ys, xs] + extra.sum(1)) / (n_aa + 1)
    # camera: exposure, vignetting, gamma, noise
    exposure = float(rng.uniform(*cfg.exposure)) if cfg.exposure[1] > cfg.exposure[0] else cfg.exposure[0]
    sigma = float(rng.uniform(*cfg.noise_sigma)) if cfg.noise_sigma[1] > cfg.noise_sigma[0] else cfg.noise_sigma[0]
    rgb = finish_image(colour.astype(np.float32), exposure * 1.15, float(rng.uniform(0.0, 0.3)), sigma, int(rng.integers(2**31)))
    return rgb, depth.reshape(H, W).astype(np.float32)


def warm_up(bank: TextureBank) -> None:
    """Compiles (or loads from numba's cache) every kernel by rendering a tiny scene."""
    from data.synth.scene import sample_scene

    cfg = SynthConfig(image_width=8, image_height=6, aa_samples=1)
    rng = np.random.default_rng(0)
    render(sample_scene(cfg, rng, bank), cfg, bank, rng)
