"""Shading of ray hits in one compiled pass: texture lookup (with decals), diffuse sun with cast
shadows, ambient sky darkened inside the box, and a Blinn-Phong highlight for glossy items."""

from __future__ import annotations

import math

import numba
import numpy as np

# local axes spanning each face: faces 0, 1 are normal to local x, 2, 3 to y, 4, 5 to z
_FACE_U = np.array([1, 1, 0, 0, 0, 0])
_FACE_V = np.array([2, 2, 2, 2, 1, 1])


@numba.njit(cache=True)
def shade_hits(prim, face, point, normal, lit, obb_c, obb_r, obb_e, mat_tex, mat_tint, mat_ppm, mat_off, mat_spec,
               dec_prim, dec_face, dec_rect, dec_tex, textures, light, ambient, sun, sky, cam, box_lwh):
    """Linear RGB (N, 3) float32 of ray hits.

    Args:
      prim, face, point, normal, lit: what `raycast.trace_camera` returns.
      obb_c, obb_r, obb_e: the solids. mat_*: per material; material n_obb is the height field and
        n_obb + 1 the ground (both use world x, y as texture coordinates).
      dec_*: decals (prim, face, rect u0 v0 u1 v1 in face metres, texture).
      textures: (T, S, S, 3) linear albedo. light: unit vector to the sun; box_lwh: L, W, H.
    """
    n = prim.shape[0]
    n_obb = obb_c.shape[0]
    size = textures.shape[1]
    out = np.empty((n, 3), np.float32)
    fu = _FACE_U
    fv = _FACE_V
    for s in range(n):
        p = prim[s]
        m = n_obb + 1 if p < 0 else p
        px, py, pz = point[s, 0], point[s, 1], point[s, 2]
        if p >= 0 and p < n_obb:
            f = face[s]
            dx, dy, dz = px - obb_c[p, 0], py - obb_c[p, 1], pz - obb_c[p, 2]
            lu = fu[f]
            lv = fv[f]
            u = obb_r[p, 0, lu] * dx + obb_r[p, 1, lu] * dy + obb_r[p, 2, lu] * dz + obb_e[p, lu]
            v = obb_r[p, 0, lv] * dx + obb_r[p, 1, lv] * dy + obb_r[p, 2, lv] * dz + obb_e[p, lv]
        else:
            f = 4
            u = px
            v = py
        tex = mat_tex[m]
        si = int(math.floor(u * mat_ppm[m] + mat_off[m, 0])) % size
        ti = size - 1 - int(math.floor(v * mat_ppm[m] + mat_off[m, 1])) % size
        r = textures[tex, ti, si, 0] * mat_tint[m, 0]
        g = textures[tex, ti, si, 1] * mat_tint[m, 1]
        b = textures[tex, ti, si, 2] * mat_tint[m, 2]
        for d in range(dec_prim.shape[0]):
            if dec_prim[d] == p and dec_face[d] == f:
                u0, v0, u1, v1 = dec_rect[d, 0], dec_rect[d, 1], dec_rect[d, 2], dec_rect[d, 3]
                if u0 <= u <= u1 and v0 <= v <= v1:
                    di = min(int((u - u0) / (u1 - u0) * size), size - 1)
                    dj = min(int((v1 - v) / (v1 - v0) * size), size - 1)
                    r = textures[dec_tex[d], dj, di, 0]
                    g = textures[dec_tex[d], dj, di, 1]
                    b = textures[dec_tex[d], dj, di, 2]
        nx, ny, nz = normal[s, 0], normal[s, 1], normal[s, 2]
        ndotl = nx * light[0] + ny * light[1] + nz * light[2]
        if ndotl < 0.0 or not lit[s]:
            ndotl = 0.0
        occl = 1.0
        if 0.0 < px < box_lwh[0] and 0.0 < py < box_lwh[1] and pz < box_lwh[2]:
            depth_frac = min(max(1.0 - pz / box_lwh[2], 0.0), 1.0)
            occl = 1.0 - 0.45 * depth_frac  # less sky reaches deep inside the box
        amb = ambient * occl
        dif = (1.0 - ambient) * ndotl
        cr = r * (amb * sky[0] + dif * sun[0])
        cg = g * (amb * sky[1] + dif * sun[1])
        cb = b * (amb * sky[2] + dif * sun[2])
        if mat_spec[m] > 0.0 and ndotl > 0.0:
            vx, vy, vz = cam[0] - px, cam[1] - py, cam[2] - pz
            vn = math.sqrt(vx * vx + vy * vy + vz * vz)
            hx, hy, hz = vx / vn + light[0], vy / vn + light[1], vz / vn + light[2]
            hn = math.sqrt(hx * hx + hy * hy + hz * hz)
            nh = max((nx * hx + ny * hy + nz * hz) / hn, 0.0)
            hl = mat_spec[m] * nh**40
            cr += hl * sun[0]
            cg += hl * sun[1]
            cb += hl * sun[2]
        out[s, 0] = cr
        out[s, 1] = cg
        out[s, 2] = cb
    return out


_GAMMA_LUT = (np.linspace(0.0, 1.0, 4097) ** (1 / 2.2) * 255.0).astype(np.float32)
# A fixed table of normal deviates read at a per-image offset and stride: much faster than drawing
# 150k fresh deviates per image, and still reproducible from the sample's seed.
_NOISE = np.random.default_rng(0x5E45).standard_normal(1 << 20).astype(np.float32)


@numba.njit(cache=True)
def _finish_image(colour, gain, vignette, sigma, seed, lut, noise):
    h, w = colour.shape[0], colour.shape[1]
    out = np.empty((h, w, 3), np.uint8)
    mask = noise.shape[0] - 1
    pos = seed & mask
    step = 2 * ((seed >> 20) & 0xFFF) + 7919  # odd, so it visits the whole table
    cx, cy = w / 2.0, h / 2.0
    norm = cx * cx + cy * cy
    for y in range(h):
        for x in range(w):
            r2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / norm
            g = gain * (1.0 - vignette * r2)
            for c in range(3):
                v = min(max(colour[y, x, c] * g, 0.0), 1.0)
                q = lut[int(v * 4096.0 + 0.5)] + sigma * noise[pos]
                pos = (pos + step) & mask
                out[y, x, c] = np.uint8(min(max(q + 0.5, 0.0), 255.0))
    return out


def finish_image(colour: np.ndarray, gain: float, vignette: float, sigma: float, seed: int) -> np.ndarray:
    """Linear RGB (H, W, 3) float32 -> uint8 sRGB with exposure gain, radial vignetting and Gaussian sensor noise."""
    return _finish_image(colour, gain, vignette, sigma, seed, _GAMMA_LUT, _NOISE)
