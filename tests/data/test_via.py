"""data/via.py against real VIA exports (../shared/fixtures/via) and round trips of what NIE writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from data.via import ViaFormatError, ViaImage, corners_from_regions, polyline_region, read_via, write_via


def _shapes(images):
    return [[r.shape for r in img.regions] for img in images]


def test_via1_json_regions_as_dict(fixtures_dir):
    images = read_via(fixtures_dir / "via/ox-vgg/unit_test_annotation2.json")
    assert [i.filename for i in images] == ["test_pattern_qbist.jpg", "sinus_test_pattern.jpg", "a_swan_swimming_in_geneve_lake.jpg"]
    assert [i.size for i in images] == [129855, 27894, 62201]
    assert sum(len(i.regions) for i in images) == 12
    assert _shapes(images)[0] == ["ellipse", "rect", "point", "point", "point", "circle", "ellipse", "point"]
    # attribute strings with quotes and non-ASCII characters survive
    assert images[0].regions[0].region_attributes["name"] == 'ellipse "red"'
    assert images[0].file_attributes["caption"] == "+-08374*&$£*"


def test_closed_polygon_drops_the_repeated_first_point(fixtures_dir):
    images = read_via(fixtures_dir / "via/ox-vgg/unit_test_annotation2.json")
    poly = images[1].regions[0]
    raw_x = poly.shape_attributes["all_points_x"]
    assert raw_x[0] == raw_x[-1] and len(poly.points) == len(raw_x) - 1


def test_csv_export_matches_the_json(fixtures_dir):
    from_json = read_via(fixtures_dir / "via/ox-vgg/unit_test_annotation2.json")
    from_csv = read_via(fixtures_dir / "via/ox-vgg/unit_test_annotation1.csv")
    assert [(i.filename, i.size) for i in from_csv] == [(i.filename, i.size) for i in from_json]
    for a, b in zip(from_csv, from_json, strict=True):
        assert [r.shape_attributes for r in a.regions] == [r.shape_attributes for r in b.regions]
        assert [r.region_attributes for r in a.regions] == [r.region_attributes for r in b.regions]


def test_oldest_via_format_json_and_key_value_csv(fixtures_dir):
    images = read_via(fixtures_dir / "via/ox-vgg/sample_img5_region_data.json")
    assert [(i.filename, len(i.regions)) for i in images] == [("sample_img5b.jpg", 5), ("sample_img5a.png", 0)]
    csv_images = read_via(fixtures_dir / "via/ox-vgg/sample_img5_region_data.csv")
    assert [(i.filename, len(i.regions)) for i in csv_images] == [("sample_img5b.jpg", 5)]
    tri = csv_images[0].regions[3]
    assert tri.shape == "polygon" and tri.shape_attributes["all_points_x"] == [211, 222, 582, 211]
    assert tri.points.shape == (3, 2)  # closed triangle
    assert [r.shape_attributes for r in csv_images[0].regions] == [r.shape_attributes for r in images[0].regions]


def test_via2_lists_and_nested_attributes(fixtures_dir):
    images = read_via(fixtures_dir / "via/icevision/via_bbox.json")
    assert [(i.filename, len(i.regions)) for i in images] == [("IMG_4908.jpg", 5), ("IMG_4909.jpg", 5)]
    shapes = sum(_shapes(images), [])
    assert shapes.count("polygon") == 9 and shapes.count("rect") == 1
    assert images[0].regions[0].region_attributes["qualities"] == {"is_rotated": True}
    # several outlines per image: not one box, and said so
    pts, reason = corners_from_regions(images[0])
    assert pts is None and "expected one box outline" in reason


def test_coco_file_is_not_taken_for_via(fixtures_dir):
    with pytest.raises(ViaFormatError, match="COCO"):
        read_via(fixtures_dir / "via/ox-vgg/coco_2017_snippet.json")


def test_project_file(tmp_path, fixtures_dir):
    meta = json.loads((fixtures_dir / "via/icevision/via_bbox.json").read_text())
    project = {"_via_settings": {"ui": {}}, "_via_img_metadata": meta, "_via_attributes": {}}
    (tmp_path / "p.json").write_text(json.dumps(project))
    assert [i.filename for i in read_via(tmp_path / "p.json")] == ["IMG_4908.jpg", "IMG_4909.jpg"]


def test_round_trip_of_what_nie_writes(tmp_path):
    pts = np.array([[10.5, 20.25], [100.0, 22.0], [98.0, 80.0], [12.0, 79.5]])
    images = [ViaImage("a.png", 123, [polyline_region(pts)]), ViaImage("b.png", 7, [])]
    write_via(tmp_path / "v.json", images)
    back = read_via(tmp_path / "v.json")
    assert [(i.filename, i.size) for i in back] == [("a.png", 123), ("b.png", 7)]
    got, reason = corners_from_regions(back[0])
    assert reason == "" and np.allclose(got, pts)
    assert json.loads((tmp_path / "v.json").read_text())["a.png123"]["regions"][0]["region_attributes"] == {"label": "box"}


def test_four_point_regions_and_wrong_counts():
    point = lambda x, y, label="box": {"shape_attributes": {"name": "point", "cx": x, "cy": y}, "region_attributes": {"label": label}}  # noqa: E731
    from data.via import parse_via_json

    data = {"a1": {"filename": "a", "size": 1, "regions": [point(0, 0), point(5, 0), point(5, 5), point(0, 5), point(9, 9, "other")]},
            "b1": {"filename": "b", "size": 1, "regions": [point(0, 0), point(5, 0), point(5, 5)]}}
    a, b = parse_via_json(data)
    pts, _ = corners_from_regions(a)
    assert pts.shape == (4, 2)  # the "other" point is ignored: labelled regions win
    pts, reason = corners_from_regions(b)
    assert pts is None and reason == "wrong number of points: found 3, need 4"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("{not json", "not valid JSON"),
        ('{"x": {"size": 3}}', "has no 'filename'"),
        ('{"x": {"filename": "a", "regions": [{"shape_attributes": {"name": "polygon", "all_points_x": [1], "all_points_y": []}}]}}', "equal length"),
        ('{"x": {"filename": "a", "regions": [{"shape_attributes": {"name": "point", "cx": "1"}}]}}', "numeric cx"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_malformed_files_name_the_problem(tmp_path, text, fragment):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ViaFormatError, match=fragment) as err:
        read_via(path)
    assert "bad.json" in str(err.value)


def test_malformed_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("#filename,file_size,region_shape_attributes\na.jpg,3,{}\n")
    with pytest.raises(ViaFormatError, match="header lacks"):
        read_via(path)
