"""COCO keypoint JSON: the box corners as one annotation with `n_points` keypoints per image.

VIA's own COCO export writes `image_id` (and sometimes `id`) as strings; both are accepted.
A file whose categories define another number of keypoints (COCO persons have 17) is refused
with a message that says so, rather than guessed at.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class CocoFormatError(ValueError):
    """A COCO file that cannot be used; str() names the file and what is wrong."""


@dataclass
class CocoImage:
    filename: str
    corners: np.ndarray | None  # (n_points, 2) or None when unusable
    reason: str = ""  # why corners is None


def read_coco_keypoints(path: str | os.PathLike, n_points: int = 4) -> list[CocoImage]:
    """Reads the images of a COCO keypoint file with their box keypoints (one annotation per image)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CocoFormatError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CocoFormatError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(data.get("annotations"), list):
        raise CocoFormatError(f"{path}: a COCO file needs 'images' and 'annotations' lists")
    kp_counts = {len(c["keypoints"]) for c in data.get("categories", []) if isinstance(c, dict) and isinstance(c.get("keypoints"), list)}
    if kp_counts and kp_counts != {n_points}:
        raise CocoFormatError(f"{path}: its categories define {sorted(kp_counts)} keypoints per annotation, "
                              f"NIE expects {n_points} box corners (set keypoints model.num_keypoints if that is meant)")
    by_image: dict[str, list[dict]] = {}
    for ann in data["annotations"]:
        if isinstance(ann, dict) and "keypoints" in ann and "image_id" in ann:
            by_image.setdefault(str(ann["image_id"]), []).append(ann)
    if not any(by_image.values()):
        raise CocoFormatError(f"{path}: no annotation has 'keypoints'; this is not a COCO keypoint file")
    out = []
    for img in data["images"]:
        if not isinstance(img, dict) or "file_name" not in img or "id" not in img:
            raise CocoFormatError(f"{path}: an image entry lacks 'file_name' or 'id'")
        anns = [a for a in by_image.get(str(img["id"]), []) if a.get("num_keypoints", 1) != 0]
        name = str(img["file_name"])
        if len(anns) != 1:
            out.append(CocoImage(name, None, "no keypoint annotation" if not anns else f"{len(anns)} keypoint annotations; expected one box"))
            continue
        kp = anns[0]["keypoints"]
        if not isinstance(kp, list) or len(kp) != 3 * n_points:
            out.append(CocoImage(name, None, f"wrong number of points: found {len(kp) // 3 if isinstance(kp, list) else 0}, need {n_points}"))
            continue
        pts = np.asarray(kp, dtype=np.float64).reshape(n_points, 3)
        if (pts[:, 2] == 0).any():
            out.append(CocoImage(name, None, f"{int((pts[:, 2] == 0).sum())} keypoints not labelled (visibility 0)"))
            continue
        out.append(CocoImage(name, pts[:, :2]))
    return out
