"""The evaluators' classifiers: their data splits and networks."""

import numpy as np
import pytest

from keras_gan.evaluation.classifiers import (
    EMOJI_CATEGORIES,
    build_emoji_classifier,
    emoji_class_names,
    emoji_classes,
    emoji_splits,
)


def write_emoji(path, names, styles, categories, class_names=EMOJI_CATEGORIES):
    n = len(names)
    np.savez(path, x=np.zeros((n, 64, 64, 4), np.uint8), y=np.array(categories, np.uint8),
             style=np.array(styles, np.uint8), name=np.array(names),
             style_names=np.array(["twitter", "google"]), class_names=np.array(class_names))


def test_emoji_classes_are_category_times_style():
    assert emoji_classes([0, 0, 3, 9], [0, 1, 1, 0]).tolist() == [0, 1, 7, 18]
    names = emoji_class_names()
    assert len(names) == 20 and names[7] == "Flags (google)"
    assert names[18] == "Travel & Places (twitter)"


def test_emoji_splits_keep_each_emoji_whole(tmp_path):
    """Skin tones and both art styles of one emoji land on the same side."""
    bases = [f"emoji{i}" for i in range(40)]
    names, styles, categories = [], [], []
    for i, base in enumerate(bases):
        for suffix in ("", "_1F3FB", "_1F3FF"):
            for style in (0, 1):
                names.append(base + suffix)
                styles.append(style)
                categories.append(i % 10)
    write_emoji(tmp_path / "e.npz", names, styles, categories)
    split = emoji_splits(tmp_path / "e.npz", held_out=0.25, seed=3)
    train, test = split["train"], split["test"]
    assert len(train) + len(test) == len(names) and not set(train) & set(test)
    base = np.array([n.split("_1F3F")[0] for n in names])
    assert not set(base[train]) & set(base[test])
    assert len(set(base[test])) == 10  # 25% of 40 emoji
    assert split["y"].tolist() == emoji_classes(categories, styles).tolist()
    again = emoji_splits(tmp_path / "e.npz", held_out=0.25, seed=3)
    assert again["test"].tolist() == test.tolist()  # seeded


def test_emoji_splits_refuse_other_data(tmp_path):
    write_emoji(tmp_path / "other.npz", ["a"], [0], [0], class_names=["cats", "dogs"])
    with pytest.raises(ValueError, match="does not hold the emoji64 categories"):
        emoji_splits(tmp_path / "other.npz")


def test_emoji_classifier_network():
    model = build_emoji_classifier(feature_dim=16)
    assert model.input_shape == (None, 64, 64, 3) and model.output_shape == (None, 20)
    assert model.get_layer("features").output.shape[-1] == 16
    assert model.get_layer("logits").dtype_policy.compute_dtype == "float32"
