"""Exact ray casting of box scenes: oriented cuboids, one triangulated height field, a ground plane.

Every solid is an oriented box (OBB: centre, rotation, half extents); loose bulk fill is a height
field over the box floor, split into two triangles per cell and walked with a 2-D DDA; the ground
is the plane z = ground_z. Intersections are closed-form, so depth is exact to float precision.

Camera rays are cast with an unnormalised direction whose camera-z component is 1: the hit
parameter t is then the z-depth along the optical axis, which is what depth maps store.
Two cheap culls keep it fast: a camera ray only tests the solids whose projected screen rectangle
holds its pixel, a shadow ray only those whose rectangle seen along the light holds its origin.
"""

from __future__ import annotations

import math

import numba
import numpy as np

GROUND = -1  # prim id of the ground plane; the height field is prim id n_obb
_EPS = 1e-9
_INF = np.inf


@numba.njit(cache=True, inline="always")
def _obb_hit(ox, oy, oz, dx, dy, dz, c, R, e, tmin):
    """Entry distance, face axis and sign of ray o + t d into an OBB; t = inf when it misses."""
    px, py, pz = ox - c[0], oy - c[1], oz - c[2]
    tnear = -_INF
    tfar = _INF
    axis = -1
    sign = 0.0
    for k in range(3):
        lo = R[0, k] * px + R[1, k] * py + R[2, k] * pz
        ld = R[0, k] * dx + R[1, k] * dy + R[2, k] * dz
        if abs(ld) < _EPS:
            if lo < -e[k] or lo > e[k]:
                return _INF, -1, 0.0
            continue
        t1 = (-e[k] - lo) / ld
        t2 = (e[k] - lo) / ld
        s = -1.0
        if t1 > t2:
            t1, t2 = t2, t1
            s = 1.0
        if t1 > tnear:
            tnear = t1
            axis = k
            sign = s
        if t2 < tfar:
            tfar = t2
        if tnear > tfar or tfar < tmin:
            return _INF, -1, 0.0
    if tnear < tmin or axis < 0:
        return _INF, -1, 0.0
    return tnear, axis, sign


@numba.njit(cache=True, inline="always")
def _tri_hit(ox, oy, oz, dx, dy, dz, ax, ay, az, bx, by, bz, cx, cy, cz, tmin):
    """Moller-Trumbore: ray parameter of the hit on triangle abc, or inf."""
    e1x, e1y, e1z = bx - ax, by - ay, bz - az
    e2x, e2y, e2z = cx - ax, cy - ay, cz - az
    qx = dy * e2z - dz * e2y
    qy = dz * e2x - dx * e2z
    qz = dx * e2y - dy * e2x
    det = e1x * qx + e1y * qy + e1z * qz
    if abs(det) < 1e-14:
        return _INF
    inv = 1.0 / det
    sx, sy, sz = ox - ax, oy - ay, oz - az
    u = (sx * qx + sy * qy + sz * qz) * inv
    if u < -1e-9 or u > 1.0 + 1e-9:
        return _INF
    rx = sy * e1z - sz * e1y
    ry = sz * e1x - sx * e1z
    rz = sx * e1y - sy * e1x
    v = (dx * rx + dy * ry + dz * rz) * inv
    if v < -1e-9 or u + v > 1.0 + 1e-9:
        return _INF
    t = (e2x * rx + e2y * ry + e2z * rz) * inv
    if t < tmin:
        return _INF
    return t


@numba.njit(cache=True)
def _hf_hit(ox, oy, oz, dx, dy, dz, hf, x0, y0, cw, ch, zmax, tmin):
    """First hit of a ray on the triangulated height field; returns (t, normal x, y, z)."""
    ny = hf.shape[0] - 1
    nx = hf.shape[1] - 1
    if nx < 1 or ny < 1:
        return _INF, 0.0, 0.0, 1.0
    lo = (x0, y0, -1e-6)
    hi = (x0 + nx * cw, y0 + ny * ch, zmax + 1e-6)
    o = (ox, oy, oz)
    d = (dx, dy, dz)
    t0 = tmin
    t1 = _INF
    for k in range(3):
        if abs(d[k]) < _EPS:
            if o[k] < lo[k] or o[k] > hi[k]:
                return _INF, 0.0, 0.0, 1.0
            continue
        a = (lo[k] - o[k]) / d[k]
        b = (hi[k] - o[k]) / d[k]
        if a > b:
            a, b = b, a
        t0 = max(t0, a)
        t1 = min(t1, b)
        if t0 > t1:
            return _INF, 0.0, 0.0, 1.0
    px = ox + t0 * dx
    py = oy + t0 * dy
    i = min(max(int((px - x0) / cw), 0), nx - 1)
    j = min(max(int((py - y0) / ch), 0), ny - 1)
    si = 1 if dx > 0 else -1
    sj = 1 if dy > 0 else -1
    tnx = ((x0 + (i + (1 if dx > 0 else 0)) * cw) - ox) / dx if abs(dx) > _EPS else _INF
    tny = ((y0 + (j + (1 if dy > 0 else 0)) * ch) - oy) / dy if abs(dy) > _EPS else _INF
    tdx = cw / abs(dx) if abs(dx) > _EPS else _INF
    tdy = ch / abs(dy) if abs(dy) > _EPS else _INF
    while True:
        xa = x0 + i * cw
        ya = y0 + j * ch
        h00 = hf[j, i]
        h10 = hf[j, i + 1]
        h11 = hf[j + 1, i + 1]
        h01 = hf[j + 1, i]
        ta = _tri_hit(ox, oy, oz, dx, dy, dz, xa, ya, h00, xa + cw, ya, h10, xa + cw, ya + ch, h11, tmin)
        tb = _tri_hit(ox, oy, oz, dx, dy, dz, xa, ya, h00, xa + cw, ya + ch, h11, xa, ya + ch, h01, tmin)
        if ta < _INF or tb < _INF:
            if ta <= tb:  # triangle (00, 10, 11): normal of the plane h00 + fx (h10-h00) + fy (h11-h10)
                gx = (h10 - h00) / cw
                gy = (h11 - h10) / ch
                t = ta
            else:
                gx = (h11 - h01) / cw
                gy = (h01 - h00) / ch
                t = tb
            n = math.sqrt(gx * gx + gy * gy + 1.0)
            return t, -gx / n, -gy / n, 1.0 / n
        if tnx < tny:
            if tnx > t1:
                break
            i += si
            tnx += tdx
        else:
            if tny > t1:
                break
            j += sj
            tny += tdy
        if i < 0 or i >= nx or j < 0 or j >= ny:
            break
    return _INF, 0.0, 0.0, 1.0


@numba.njit(cache=True)
def _occluded(px, py, pz, lx, ly, lz, la, lb, obb_c, obb_r, obb_e, lbb, shadow_caster, hf, hf_geo, hf_lbb):
    """True when the ray from p towards the light hits any shadow-casting solid."""
    pa = la[0] * px + la[1] * py + la[2] * pz
    pb = lb[0] * px + lb[1] * py + lb[2] * pz
    for k in range(obb_c.shape[0]):
        if not shadow_caster[k]:
            continue
        if pa < lbb[k, 0] or pa > lbb[k, 2] or pb < lbb[k, 1] or pb > lbb[k, 3]:
            continue
        t, _, _ = _obb_hit(px, py, pz, lx, ly, lz, obb_c[k], obb_r[k], obb_e[k], 1e-7)
        if t < _INF:
            return True
    if hf.shape[0] > 1 and hf_lbb[0] <= pa <= hf_lbb[2] and hf_lbb[1] <= pb <= hf_lbb[3]:
        t, _, _, _ = _hf_hit(px, py, pz, lx, ly, lz, hf, hf_geo[0], hf_geo[1], hf_geo[2], hf_geo[3], hf_geo[4], 1e-7)
        if t < _INF:
            return True
    return False


@numba.njit(cache=True)
def trace_camera(us, vs, cam, R_cw, intr, ground_z, obb_c, obb_r, obb_e, sbb, lbb, shadow_caster,
                 hf, hf_geo, hf_sbb, hf_lbb, light, la, lb):
    """Casts one camera ray per (u, v) sample.

    Args:
      us, vs: (N,) pixel coordinates (pixel centres at integers).
      cam: (3,) camera centre; R_cw: (3, 3) camera-to-world rotation (columns: x right, y down, z forward).
      intr: (fx, fy, cx, cy). ground_z: height of the ground plane.
      obb_c, obb_r, obb_e: (P, 3), (P, 3, 3), (P, 3) solids; sbb / lbb: (P, 4) screen / light-space rectangles.
      hf: (ny+1, nx+1) height-field vertex heights; hf_geo: (x0, y0, cell w, cell h, zmax).
      light: (3,) unit vector towards the light; la, lb: (3,) basis of the plane across it.
    Returns:
      z-depth (N,), prim id (N,) int32 (GROUND = -1, n_obb = height field), face (N,) int8,
      hit point (N, 3) world, normal (N, 3) world, lit (N,) bool (not in shadow).
    """
    n = us.shape[0]
    n_obb = obb_c.shape[0]
    depth = np.empty(n)
    prim = np.empty(n, np.int32)
    face = np.empty(n, np.int8)
    point = np.empty((n, 3))
    normal = np.empty((n, 3))
    lit = np.empty(n, np.bool_)
    fx, fy, cx, cy = intr[0], intr[1], intr[2], intr[3]
    ox, oy, oz = cam[0], cam[1], cam[2]
    for s in range(n):
        u = us[s]
        v = vs[s]
        a = (u - cx) / fx
        b = (v - cy) / fy
        dx = R_cw[0, 0] * a + R_cw[0, 1] * b + R_cw[0, 2]
        dy = R_cw[1, 0] * a + R_cw[1, 1] * b + R_cw[1, 2]
        dz = R_cw[2, 0] * a + R_cw[2, 1] * b + R_cw[2, 2]
        best = _INF
        best_p = GROUND
        best_f = 0
        nxw, nyw, nzw = 0.0, 0.0, 1.0
        if dz < -_EPS:
            best = (ground_z - oz) / dz
        for k in range(n_obb):
            if u < sbb[k, 0] or u > sbb[k, 2] or v < sbb[k, 1] or v > sbb[k, 3]:
                continue
            t, axis, sign = _obb_hit(ox, oy, oz, dx, dy, dz, obb_c[k], obb_r[k], obb_e[k], 1e-6)
            if t < best:
                best = t
                best_p = k
                best_f = axis * 2 + (1 if sign > 0 else 0)
                nxw = obb_r[k, 0, axis] * sign
                nyw = obb_r[k, 1, axis] * sign
                nzw = obb_r[k, 2, axis] * sign
        if hf.shape[0] > 1 and hf_sbb[0] <= u <= hf_sbb[2] and hf_sbb[1] <= v <= hf_sbb[3]:
            t, hnx, hny, hnz = _hf_hit(ox, oy, oz, dx, dy, dz, hf, hf_geo[0], hf_geo[1], hf_geo[2], hf_geo[3], hf_geo[4], 1e-6)
            if t < best:
                best = t
                best_p = n_obb
                best_f = 4
                nxw, nyw, nzw = hnx, hny, hnz
        depth[s] = best
        prim[s] = best_p
        face[s] = best_f
        px = ox + best * dx
        py = oy + best * dy
        pz = oz + best * dz
        point[s, 0] = px
        point[s, 1] = py
        point[s, 2] = pz
        normal[s, 0] = nxw
        normal[s, 1] = nyw
        normal[s, 2] = nzw
        if nxw * light[0] + nyw * light[1] + nzw * light[2] <= 0.0:
            lit[s] = False
        else:
            lit[s] = not _occluded(px + 1e-5 * nxw, py + 1e-5 * nyw, pz + 1e-5 * nzw, light[0], light[1], light[2],
                                   la, lb, obb_c, obb_r, obb_e, lbb, shadow_caster, hf, hf_geo, hf_lbb)
    return depth, prim, face, point, normal, lit


@numba.njit(cache=True)
def top_surface(xs, ys, z_start, obb_c, obb_r, obb_e, hmap):
    """Raises hmap (N,) to the highest surface of the given solids above each (x, y), by casting rays down."""
    for s in range(xs.shape[0]):
        for k in range(obb_c.shape[0]):
            t, _, _ = _obb_hit(xs[s], ys[s], z_start, 0.0, 0.0, -1.0, obb_c[k], obb_r[k], obb_e[k], 0.0)
            if t < _INF:
                z = z_start - t
                if z > hmap[s]:
                    hmap[s] = z
    return hmap


def warm_up() -> None:
    """Compiles (or loads from numba's cache) every kernel on a tiny scene."""
    c = np.zeros((1, 3))
    r = np.eye(3)[None].copy()
    e = np.full((1, 3), 0.1)
    bb = np.array([[-1e9, -1e9, 1e9, 1e9]])
    hf = np.zeros((2, 2))
    geo = np.array([0.0, 0.0, 0.1, 0.1, 0.1])
    trace_camera(np.zeros(1), np.zeros(1), np.array([0.0, 0.0, 1.0]), np.diag([1.0, -1.0, -1.0]),
                 np.array([1.0, 1.0, 0.0, 0.0]), -1.0, c, r, e, bb, bb, np.ones(1, np.bool_),
                 hf, geo, bb[0], bb[0], np.array([0.0, 0.0, 1.0]), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
    top_surface(np.zeros(1), np.zeros(1), 1.0, c, r, e, np.zeros(1))
