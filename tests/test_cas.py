"""keras_gan/evaluation/cas.py and its place in `keras-gan eval`: the
classification accuracy score of a conditional generator."""

import numpy as np
import pytest

from keras_gan.evaluation.cas import CasError, cas_stages, classification_accuracy_score

K, MODES, SIDE, NOISE = 4, 3, 8, 0.6
EPOCHS = 10  # the toy's 100 images a class need more passes than the digits' 679
PROTOS = np.random.default_rng(0).uniform(-1, 1, (K, MODES, SIDE, SIDE, 1)).astype(np.float32)


def _draw(per_mode, seed):
    """Each class a mixture of MODES random 8x8 patterns, plus noise: a
    class is learnt only from images of all its modes."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(K), MODES * per_mode)
    mode = np.tile(np.repeat(np.arange(MODES), per_mode), K)
    x = PROTOS[y, mode] + rng.normal(0, NOISE, (len(y), SIDE, SIDE, 1))
    return np.clip(x, -1, 1).astype(np.float32), y


X_TRAIN, Y_TRAIN = _draw(40, 1)  # 120 a class
X_TEST, Y_TEST = _draw(20, 2)


def _copier(seed=3):
    """A 'generator' that returns real training images of the asked class,
    each at most once (in a seeded order), as a perfect generator would
    draw new ones."""
    rng = np.random.default_rng(seed)
    order = {c: list(rng.permutation(np.flatnonzero(Y_TRAIN == c))) for c in range(K)}
    return lambda labels: np.stack([X_TRAIN[order[int(c)].pop()] for c in labels])


def _collapsed(labels):
    """A 'generator' collapsed to one image per class (of its first mode)."""
    first = {c: X_TRAIN[np.flatnonzero(Y_TRAIN == c)[0]] for c in range(K)}
    return np.stack([first[int(c)] for c in labels])


@pytest.fixture(scope="module")
def copier_result():
    return classification_accuracy_score(_copier(), X_TEST, Y_TEST, K, 100, seed=0,
                                         epochs=EPOCHS, x_real_train=X_TRAIN,
                                         y_real_train=Y_TRAIN)


def test_a_generator_of_real_images_scores_the_real_accuracy(copier_result):
    r = copier_result
    assert r["real_accuracy"] > 0.85  # the toy is learnt from 100 real images a class
    assert abs(r["cas"] - r["real_accuracy"]) < 0.05
    assert r["ratio"] == pytest.approx(r["cas"] / r["real_accuracy"])
    assert r["examples_per_class"] == 100 and r["num_test"] == len(Y_TEST)


def test_a_collapsed_generator_scores_clearly_below(copier_result):
    r = classification_accuracy_score(_collapsed, X_TEST, Y_TEST, K, 100, seed=0,
                                      epochs=EPOCHS)
    # One image a class covers one mode in three: about 1/3 + 2/3 of chance.
    assert r["cas"] < copier_result["real_accuracy"] - 0.3
    assert r["real_accuracy"] is None and r["ratio"] is None


def test_the_count_is_capped_at_the_smallest_real_class_and_bad_input_refused():
    seen = []

    def sample(labels):
        seen.append(np.bincount(labels))
        return _collapsed(labels)

    keep = np.flatnonzero((Y_TRAIN != 2) | (np.arange(len(Y_TRAIN)) % 120 < 7))  # 7 of class 2
    r = classification_accuracy_score(sample, X_TEST, Y_TEST, K, 100, seed=0, epochs=1,
                                      x_real_train=X_TRAIN[keep], y_real_train=Y_TRAIN[keep])
    assert r["examples_per_class"] == 7 and seen[0].tolist() == [7] * K
    with pytest.raises(CasError, match="gave images of shape"):
        classification_accuracy_score(lambda y: X_TEST[:len(y), :4], X_TEST, Y_TEST, K, 2,
                                      seed=0, epochs=1)
    with pytest.raises(CasError, match="beyond the generator's 3 classes"):
        classification_accuracy_score(_collapsed, X_TEST, Y_TEST, 3, 2, seed=0, epochs=1)
    assert cas_stages(28) == (32, "pool", 64, "pool")
    assert cas_stages(64) == (32, "pool", 64, "pool", 128, "pool", 128, "pool")


def test_eval_scores_a_conditional_generator_and_reports_it(tmp_path):
    """`generator_cas` on a tiny conditional generator and a labelled npz of
    its size: the CAS entry, its table in report.md; other classes: skipped."""
    import keras

    from keras_gan.evaluation.evaluate import generator_cas, write_report
    from keras_gan.models.networks import build_networks

    np.savez(tmp_path / "toy.npz", x=np.round((X_TRAIN[..., 0] + 1) * 127.5).astype(np.uint8),
             y=Y_TRAIN)
    keras.utils.set_random_seed(0)
    g, _ = build_networks("dcgan", 4, (SIDE, SIDE, 1), 4, num_classes=K)
    source = f"npz:{tmp_path / 'toy.npz'}"
    cas = generator_cas(g, K, source, (SIDE, SIDE, 1), seed=0)
    # 96 training rows a class (24 held out): an untrained G teaches nothing
    assert cas["examples_per_class"] == 96 and cas["num_test"] == 4 * 24
    assert cas["real_accuracy"] > 0.6 and cas["cas"] < cas["real_accuracy"] - 0.2
    assert "skipped" in generator_cas(g, 7, source, (SIDE, SIDE, 1), seed=0)
    result = {"source": "g", "num_samples": 8, "seed": 0, "real": source,
              "eval_seconds": 1, "kind": "images", "cas": cas,
              "_samples": np.zeros((8, SIDE, SIDE, 1), np.float32),
              "_real": X_TRAIN[:8],
              "metrics": {"extractor": "x", "fd": 1.0, "score": 1.0, "kid": 0.0,
                          "precision": 1.0, "recall": 1.0,
                          "class_coverage": {"fractions": [0.25] * 4, "min_fraction": 0.25,
                                             "kl_to_uniform": 0.0},
                          "reference": {"fd": 1.0, "score": 1.0, "kid": 0.0, "precision": 1.0,
                                        "recall": 1.0,
                                        "class_coverage": {"fractions": [0.25] * 4,
                                                           "min_fraction": 0.25,
                                                           "kl_to_uniform": 0.0}}}}
    report = (write_report(result, tmp_path / "eval") / "report.md").read_text()
    assert f"| generated (CAS) | {cas['cas']:.4f} |" in report
    assert f"| real | {cas['real_accuracy']:.4f} |" in report
