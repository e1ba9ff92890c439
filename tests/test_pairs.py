"""keras_gan.data.pairs and splits: paired and unpaired sets for translation.

Folders and npz files are built tiny in tmp_path; the emoji64 tests read
the real set and skip, naming the command that gets it, where it is not.
"""

import json
import re
from importlib import resources

import numpy as np
import pytest
from conftest import named_data, needs_data
from PIL import Image

from keras_gan.data import splits
from keras_gan.data.pairs import (
    emoji_pairs,
    folder_pairs,
    load_pairs,
    npz_pairs,
    parse_pair_source,
)
from keras_gan.errors import DataError


def one_line(excinfo):
    text = str(excinfo.value)
    assert "\n" not in text
    return text


def save(path, value, size=4, mode="L"):
    """A flat image of grey `value`: its pair is known by its value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, (size, size), value if mode == "L" else (value,) * 3).save(path)


def grey(x):
    """The uint8 level of each row of flat [-1, 1] images."""
    return np.rint((x[:, 0, 0, 0] + 1) * 127.5).astype(int).tolist()


# ---- folders -------------------------------------------------------------


def test_paired_folders_load_in_name_order_matched_by_name(tmp_path):
    # "a-b.png" sorts before "a.png" as a path ('-' < '.'), after it as a
    # name: the rows must follow the names and pair by them.
    for name, value in [("cat", 10), ("a", 20), ("a-b", 30), ("sub/bee", 40)]:
        save(tmp_path / "A" / f"{name}.png", value)
        save(tmp_path / "B" / f"{name}.bmp", value, mode="RGB")  # extension aside
    p = folder_pairs(tmp_path / "A", tmp_path / "B")
    assert p.names == p.names_b == ("a", "a-b", "cat", "sub/bee")
    assert grey(p.a) == grey(p.b) == [20, 30, 10, 40]
    assert p.a.shape == (4, 4, 4, 1) and p.b.shape == (4, 4, 4, 3)
    assert p.a.dtype == np.float32 and p.paired and p.domains == ("A", "B")
    assert p.size == (4, 4) and p.categories is None


def test_a_missing_pair_names_the_first_one_in_name_order(tmp_path):
    for name in ("ant", "cat", "dog"):
        save(tmp_path / "A" / f"{name}.png", 0)
    for name in ("ant", "dog", "eel"):
        save(tmp_path / "B" / f"{name}.png", 0)
    with pytest.raises(DataError) as e:
        folder_pairs(tmp_path / "A", tmp_path / "B")
    assert one_line(e) == (f"{str(tmp_path / 'A' / 'cat.png')!r} has no pair in "
                           f"{str(tmp_path / 'B')!r} (paired folders match by file name).")
    (tmp_path / "A" / "cat.png").unlink()  # now B's eel is the first
    with pytest.raises(DataError, match=r"eel\.png' has no pair in '.*A'"):
        folder_pairs(tmp_path / "A", tmp_path / "B")


def test_folders_of_different_sizes_name_two_files(tmp_path):
    save(tmp_path / "A" / "x.png", 0, size=8)
    save(tmp_path / "B" / "x.png", 0, size=4)
    with pytest.raises(DataError) as e:
        folder_pairs(tmp_path / "A", tmp_path / "B")
    text = one_line(e)
    assert "A/x.png' is 8x8 but " in text and "B/x.png' is 4x4" in text
    assert folder_pairs(tmp_path / "A", tmp_path / "B", size=4).size == (4, 4)
    save(tmp_path / "A" / "y.png", 0, size=4)  # within one folder: the folder loader says
    with pytest.raises(DataError, match="have different sizes: .*x.png' is 8x8"):
        folder_pairs(tmp_path / "A", tmp_path / "B", paired=False)


def test_two_files_of_one_name_in_a_folder_are_refused(tmp_path):
    save(tmp_path / "A" / "cat.png", 0)
    save(tmp_path / "A" / "cat.bmp", 0)
    save(tmp_path / "B" / "cat.png", 0)
    with pytest.raises(DataError, match="are both 'cat': paired folders match by file name"):
        folder_pairs(tmp_path / "A", tmp_path / "B")


def test_unpaired_folders_take_any_numbers(tmp_path):
    for i in range(3):
        save(tmp_path / "A" / f"{i}.png", i)
    save(tmp_path / "B" / "only.png", 9, mode="RGB")
    p = load_pairs(f"unpaired:{tmp_path / 'A'},{tmp_path / 'B'}")
    assert not p.paired and len(p.a) == 3 and len(p.b) == 1
    assert p.names == ("0", "1", "2") and p.names_b == ("only",)


def test_a_pairs_spec_reads_the_folders_and_has_only_a_train_split(tmp_path):
    save(tmp_path / "A" / "x.png", 5)
    save(tmp_path / "B" / "x.png", 5)
    spec = f"pairs:{tmp_path / 'A'},{tmp_path / 'B'}"
    assert load_pairs(spec).names == ("x",)
    with pytest.raises(DataError, match="has no 'val' split"):
        load_pairs(spec, "val")


# ---- npz -----------------------------------------------------------------


def test_npz_pairs_scale_composite_and_box_average(tmp_path):
    a = np.zeros((2, 4, 4, 4), np.uint8)  # RGBA: clear -> the white background
    a[:, :2, :2] = (0, 0, 0, 255)  # one opaque black quarter
    b = np.linspace(0, 1, 2 * 16).reshape(2, 4, 4).astype(np.float32)  # float [0, 1]
    np.savez(tmp_path / "ab.npz", a=a, b=b)
    p = load_pairs(f"npz:{tmp_path / 'ab.npz'}")
    assert p.paired and p.a.shape == (2, 4, 4, 3) and p.b.shape == (2, 4, 4, 1)
    assert p.a[0, 0, 0].tolist() == [-1] * 3 and p.a[0, 3, 3].tolist() == [1] * 3
    np.testing.assert_allclose(p.b[..., 0], b * 2 - 1, atol=1e-6)
    half = npz_pairs(tmp_path / "ab.npz", size=2)  # 2 x 2 boxes: the quarter is one pixel
    assert half.a[0, :, :, 0].tolist() == [[-1, 1], [1, 1]]


def test_npz_lengths_must_match_when_paired_only(tmp_path):
    np.savez(tmp_path / "ab.npz", a=np.zeros((3, 4, 4), np.uint8), b=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(DataError) as e:
        load_pairs(f"pairs:{tmp_path / 'ab.npz'}")
    assert "a has 3 images but b has 2" in one_line(e)
    p = load_pairs(f"unpaired:{tmp_path / 'ab.npz'}")
    assert not p.paired and (len(p.a), len(p.b)) == (3, 2)


@pytest.mark.parametrize("arrays, message", [
    (dict(a=np.zeros((2, 4, 4), np.uint8)), "has no arrays 'a' and 'b'"),
    (dict(a=np.zeros((2, 4, 4), np.uint8), b=np.zeros((2, 8, 8), np.uint8)),
     "a's images are 4x4 but b's are 8x8"),
    (dict(a=np.zeros((2, 4, 4, 2), np.uint8), b=np.zeros((2, 4, 4), np.uint8)),
     r"a: expected images .* got shape \(2, 4, 4, 2\)"),
    (dict(a=np.full((1, 4, 4), np.nan, np.float32), b=np.zeros((1, 4, 4), np.uint8)),
     "NaN or infinite"),
], ids=["no-b", "sizes", "channels", "nan"])
def test_bad_npz_is_one_line(tmp_path, arrays, message):
    np.savez(tmp_path / "ab.npz", **arrays)
    with pytest.raises(DataError, match=message) as e:
        npz_pairs(tmp_path / "ab.npz")
    one_line(e)


# ---- source strings ------------------------------------------------------


def test_specs_parse():
    s = parse_pair_source("emoji64:sketch:google:reverse")
    assert (s.kind, s.task, s.style, s.reverse) == ("emoji64", "sketch", "google", True)
    assert parse_pair_source("emoji64:styles").reverse is False
    assert parse_pair_source("npz:data/x.bin").kind == "pairs"  # npz: takes any name
    assert [str(p) for p in parse_pair_source("unpaired:x,y").paths] == ["x", "y"]


@pytest.mark.parametrize("spec", ["emoji64:colours", "emoji64:styles:sepia", "emoji64",
                                  "folder:x", "pairs:", "npz:", "mnist-sample",
                                  "emoji64:sketch:reverse:reverse"])
def test_unknown_specs_are_one_line(spec):
    with pytest.raises(DataError, match=f"^Unknown pair source {re.escape(repr(spec))}; "
                                        "use emoji64:styles") as e:
        parse_pair_source(spec)
    one_line(e)


@pytest.mark.parametrize("spec, message", [
    ("pairs:a,b,c", r"expected pairs:DIR_A,DIR_B \(two folders\) or pairs:PATH.npz"),
    ("unpaired:onlyone", "expected unpaired:DIR_A,DIR_B"),
    ("pairs:a,", "expected pairs:DIR_A,DIR_B"),
    ("emoji64:styles:google", "a style option is for emoji64:sketch"),
])
def test_malformed_specs_say_what_they_expect(spec, message):
    with pytest.raises(DataError, match=message) as e:
        parse_pair_source(spec)
    one_line(e)


# ---- the split, on a tiny made-up set ------------------------------------

NAMES = ["cat", "cat_1F3FB", "cat_1F3FC", "dog", "eel", "fox", "gnu",
         "hen", "hen_1F3FB-1F3FC", "ant", "bee", "cod", "elk", "owl"]
CATEGORIES = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2]


@pytest.fixture
def split_file(tmp_path):
    path = tmp_path / "split.json"
    path.write_text(json.dumps(dict(base_pattern=r"_1F3F[B-F](-1F3F[B-F])*$",
                                    test_bases=["cat", "ant"])))
    return path


def test_split_keeps_skin_tones_with_their_base_and_covers_every_row(split_file):
    rows = {s: splits.split_rows(NAMES, CATEGORIES, s, split_file) for s in splits.SPLITS}
    assert [NAMES[i] for i in rows["test"]] == ["cat", "cat_1F3FB", "cat_1F3FC", "ant"]
    assert sorted(np.concatenate(list(rows.values())).tolist()) == list(range(len(NAMES)))
    bases = {s: set(splits.bases_of([NAMES[i] for i in r], r"_1F3F.*$")) for s, r in rows.items()}
    assert not (bases["train"] & bases["val"]) and not (bases["val"] & bases["test"])
    # 10% of 5, 2 and 2 training bases rounds to 0: each category still gets
    # one val base (with its skin tones).
    val_categories = sorted(CATEGORIES[i] for i in rows["val"] if "_" not in NAMES[i])
    assert val_categories == [0, 1, 2]
    again = splits.split_rows(NAMES, CATEGORIES, "val", split_file)
    np.testing.assert_array_equal(again, rows["val"])


def test_split_errors(tmp_path, split_file):
    with pytest.raises(DataError, match="Unknown split 'valid'; use train, val, test"):
        splits.split_rows(NAMES, CATEGORIES, "valid", split_file)
    with pytest.raises(DataError, match="names 1 base emoji the data does not hold "
                                        r"\(first 'cat'\)"):
        splits.split_rows(NAMES[3:], CATEGORIES[3:], "test", split_file)
    bad = tmp_path / "bad.json"
    bad.write_text('{"test_bases": []}')
    with pytest.raises(DataError, match="not a split file with base_pattern") as e:
        splits.split_rows(NAMES, CATEGORIES, "test", bad)
    one_line(e)


# ---- emoji64 -------------------------------------------------------------


@pytest.fixture(scope="module")
def emoji():
    """emoji64's names, categories and styles (not its images: fast)."""
    with np.load(named_data("emoji64")) as f:
        return {k: f[k] for k in ("name", "y", "style")}


def shipped_test_rows(names):
    """Rows held out, computed from the split file by hand, not by splits.py."""
    path = resources.files("keras_gan") / "assets" / "emoji64_split.json"
    spec = json.loads(path.read_text())
    held = set(spec["test_bases"])
    return np.array([re.sub(spec["base_pattern"], "", n) in held for n in names])


@needs_data("emoji64")
def test_the_shipped_split_holds_out_608_pairs_and_val_is_fixed(emoji):
    twitter = emoji["style"] == 0
    names, categories = emoji["name"][twitter], emoji["y"][twitter]
    assert shipped_test_rows(emoji["name"]).sum() == 1216  # both styles
    rows = {s: splits.split_rows(names, categories, s) for s in splits.SPLITS}
    assert {s: len(r) for s, r in rows.items()} == dict(train=2871, val=307, test=608)
    assert sum(map(len, rows.values())) == len(set(names)) == 3786  # every pair, once
    np.testing.assert_array_equal(rows["test"], np.flatnonzero(shipped_test_rows(names)))
    pattern, _ = splits.load_split()
    bases = {s: set(splits.bases_of(names[r], pattern)) for s, r in rows.items()}
    assert {s: len(b) for s, b in bases.items()} == dict(train=1461, val=162, test=288)
    assert not (bases["train"] & bases["val"] or bases["train"] & bases["test"]
                or bases["val"] & bases["test"])
    np.testing.assert_array_equal(splits.split_rows(names, categories, "val"), rows["val"])
    # Pinned: VAL_SEED's draw, the same on every machine (a changed seed,
    # numpy stream or pool order shows here).
    assert names[rows["val"][:5]].tolist() == ["black_joker", "b", "free", "flag-ar", "flag-bn"]


@needs_data("emoji64")
def test_styles_pairs_match_by_name(emoji):
    p = emoji_pairs("styles", "test")
    assert len(p.names) == len(p.a) == len(p.b) == 608 and p.domains == ("twitter", "google")
    assert p.a.shape == p.b.shape == (608, 64, 64, 3)
    with np.load(named_data("emoji64")) as f:
        x = f["x"]
    google = {n: i for i, n in enumerate(emoji["name"]) if emoji["style"][i] == 1}
    for i in (0, 300, 607):
        rgba = x[google[p.names[i]]].astype(np.float32) / 255  # composited on white
        want = rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])
        np.testing.assert_allclose((p.b[i] + 1) / 2, want, atol=1 / 255)
    back = emoji_pairs("styles", "test", reverse=True)
    assert back.domains == ("google", "twitter")
    np.testing.assert_array_equal(back.a, p.b)


@needs_data("emoji64")
def test_the_sketch_task_pairs_a_sketch_with_its_twitter_emoji():
    p = load_pairs("emoji64:sketch", "val", size=32)
    assert p.domains == ("sketch", "twitter") and p.a.shape == (307, 32, 32, 1)
    assert p.b.shape == (307, 32, 32, 3) and p.categories.shape == (307,)
    assert p.a.min() == -1 and p.a.max() == 1  # strokes on white paper
