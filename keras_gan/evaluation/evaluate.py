"""`evaluate(source)`: score a generator without trusting its loss curves.

Images are scored in the features of an extractor that fits them
(`keras_gan.evaluation.evaluator.choose_evaluator`: the project's digit classifier for
MNIST, following TF-GAN's MNIST metrics, its emoji classifier for emoji, or
InceptionV3 for those with its weights); 2D mixtures by the mode metrics of
the ring/grid protocol. Every image metric is reported beside its real-data
reference: the same metric between two disjoint halves of the real data,
and every report names the extractor and clean-fid's conventions it used
(`Evaluator.conventions`).

`write_report(result, out_dir, ...)` turns the result into `eval.json`,
`report.md` and the pictures a person can look at.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np

from export.runtime import sample_latents
from keras_gan.data.images import save_grid, save_scatter
from keras_gan.errors import DataError, UserError
from keras_gan.evaluation import metrics as M
from keras_gan.training.run_folder import METRICS_FILE, METRICS_INDEX, read_metrics


class EvalError(UserError, ValueError):
    """The model or data cannot be evaluated as asked."""


def generate(generator: keras.Model, n: int, seed: int, batch_size: int = 500,
             num_classes: int | None = None, progress: bool = True) -> tuple:
    """n samples from the latents of `seed` (as the ONNX runtime draws them);
    conditional generators get labels cycling through the classes."""
    z = sample_latents(n, generator.inputs[0].shape[-1], seed)
    labels = np.arange(n, dtype=np.int64) % num_classes if num_classes else None
    bar = keras.utils.Progbar(n, verbose=1 if progress else 0, unit_name="sample")
    out = []
    for start in range(0, n, batch_size):
        stop = min(n, start + batch_size)
        inputs = z[start:stop] if labels is None else [z[start:stop], labels[start:stop]]
        out.append(keras.ops.convert_to_numpy(generator(inputs, training=False)))
        bar.update(stop)
    return np.concatenate(out), labels


def image_metrics(fake, real, evaluator, fake_labels=None, seed: int = 0) -> dict:
    """FD, score, KID, precision/recall and class coverage of `fake` in the
    evaluator's features, each beside the same metric between two halves of
    `real` (in a seed-`seed` shuffled order, so that sorted data, e.g. one art
    style after the other, still gives two like halves)."""
    f_fake, p_fake = evaluator.features_and_probs(fake)
    f_real, p_real = evaluator.features_and_probs(real)
    order = np.random.default_rng(seed).permutation(len(real))
    half = len(real) // 2
    a, b = order[:half], order[half:2 * half]
    pred, real_pred = p_fake.argmax(axis=1), p_real.argmax(axis=1)
    k = evaluator.num_classes
    result = {
        "extractor": evaluator.name,
        "conventions": {**evaluator.conventions(),
                        "reference": f"real halves: {half} vs {half} rows of a seed-{seed} "
                                     "shuffled order",
                        "num_generated": int(len(fake)), "num_real": int(len(real))},
        "num_generated": int(len(fake)),
        "num_real": int(len(real)),
        "fd": M.frechet_distance_from_features(f_fake, f_real),
        "score": M.inception_score(p_fake)[0],
        "kid": M.kernel_inception_distance(f_fake, f_real, seed=seed)[0],
        "precision_recall": M.precision_recall(f_real[:5000], f_fake[:5000]),
        "class_coverage": M.class_coverage(pred, k),
        "reference": {
            "fd": M.frechet_distance_from_features(f_real[a], f_real[b]),
            "score": M.inception_score(p_real)[0],
            "kid": M.kernel_inception_distance(f_real[a], f_real[b], seed=seed)[0],
            "precision_recall": M.precision_recall(f_real[a], f_real[b]),
            "class_coverage": M.class_coverage(real_pred, k),
        },
    }
    result["precision"], result["recall"] = result.pop("precision_recall")
    ref = result["reference"]
    ref["precision"], ref["recall"] = ref.pop("precision_recall")
    # Class proportions vs the real ones (total variation): meaningful where
    # classes are unbalanced and the smallest share says little.
    result["class_tv"] = M.class_total_variation(result["class_coverage"]["fractions"],
                                                 ref["class_coverage"]["fractions"])
    ref["class_tv"] = M.class_total_variation(
        *(M.class_coverage(real_pred[h], k)["fractions"] for h in (a, b)))
    if fake_labels is not None:
        result["conditional_accuracy"] = M.conditional_accuracy(pred, fake_labels)
    return result


def nearest_real(fake, real, count: int = 8, neighbours: int = 5) -> np.ndarray:
    """For `count` fakes, their nearest real images in pixel space (L2):
    (count, 1 + neighbours, H, W, C), each row a fake then its neighbours.
    A generator that copies its training set shows near-identical rows."""
    f = fake[:count].reshape(count, -1).astype(np.float32)
    r = real.reshape(len(real), -1).astype(np.float32)
    d = (f**2).sum(1)[:, None] - 2 * f @ r.T + (r**2).sum(1)[None, :]
    idx = np.argsort(d, axis=1)[:, :neighbours]
    return np.concatenate([fake[:count, None], real[idx]], axis=1)


def evaluate(source, *, num_samples: int = 10_000, seed: int = 0, real: str | None = None,
             classifier=None, evaluator: str = "auto", progress: bool = True,
             cas: bool = True) -> dict:
    """Scores the generator in `source` (run folder, export or .keras file).

    Args:
        num_samples: generated samples (the protocol uses 10,000).
        real: data source of the reference (default: the model's training data).
        classifier: path of the classifier (default: the shipped one).
        evaluator: the extractor (`keras_gan.evaluation.evaluator.choose_evaluator`):
            "auto" picks the one trained on the model's data, if any.
        cas: conditional image models: also the classification accuracy
            score (`generator_cas`).
    """
    from keras_gan.data.named import renamed
    from keras_gan.data.pipeline import load_dataset
    from keras_gan.data.sources import toy_mixture
    from keras_gan.training.run_folder import load_generator

    generator, info = load_generator(source)
    config = info.get("config") or {}
    # A model trained before its data had a name (emoji64 as a path beside
    # the checkout) is scored against the named data set.
    real = real or renamed(config.get("dataset")) or "mnist-sample"
    conditional = len(generator.inputs) == 2
    num_classes = (info.get("data") or {}).get("num_classes") if conditional else None
    if conditional and not num_classes:
        num_classes = _embedding_classes(generator)
    start = time.time()
    fake, labels = generate(generator, num_samples, seed, num_classes=num_classes,
                            progress=progress)
    result = {"source": str(source), "num_samples": num_samples, "seed": seed, "real": real,
              "gan": config.get("gan"), "steps": info.get("steps"),
              "train_seconds": info.get("train_seconds")}
    shape = tuple(fake.shape[1:])
    if shape == (2,):
        if real not in ("ring", "grid"):
            raise EvalError(f"2D samples are scored against ring or grid, not {real!r}")
        means, std = toy_mixture(real)
        result["kind"] = "points"
        result["modes"] = M.mode_metrics(fake, means, std)
        result["_samples"], result["_centres"] = fake, means
    else:
        from keras_gan.evaluation.evaluator import choose_evaluator

        # The reference data first: its class names tell `auto` what it is
        # (an exported card of an unconditional model carries none).
        ds, data = load_dataset(real, image_size=shape[0] if shape[0] == shape[1] else None,
                                background=config.get("background") or "white")
        chosen = choose_evaluator(evaluator, real, shape, data.class_names, classifier)
        if chosen is None:
            raise EvalError(
                f"no evaluator fits {real} ({'x'.join(map(str, shape))} images): pass "
                "--evaluator digit, emoji or inception to choose the extractor (see `keras-gan "
                "eval --help`)")
        x_real = np.stack([x for x, _ in ds.as_numpy_iterator()])
        result["kind"] = "images"
        result["metrics"] = image_metrics(fake, x_real, chosen, labels, seed)
        result["_samples"], result["_real"] = fake, x_real
        if conditional and cas:
            result["cas"] = generator_cas(generator, num_classes, real, shape, seed,
                                          config.get("background") or "white")
    result["eval_seconds"] = round(time.time() - start, 2)
    return result


def generator_cas(generator, num_classes: int, real: str, shape, seed: int,
                  background="white") -> dict:
    """The classification accuracy score (`keras_gan.evaluation.cas`) of a
    conditional generator on the labelled split of `real` (`load_labelled`):
    its default size, the real training rows' smallest class (679 per class
    on mnist-sample). On by default (`keras-gan eval --no-cas` skips it)
    because it is cheap beside the rest of an evaluation: on mnist-sample the
    two classifiers and the 6,790 samples took 11 to 17 s on 2 CPU cores
    (the higher with other training running), under the 30 s we allow an
    extra that is on by default. The generator may have trained on the
    held-out rows; the classifiers never do. A source without labels, or
    other classes than the generator's, gives a "skipped" entry, not an
    error."""
    from keras_gan.data.labelled import load_labelled
    from keras_gan.evaluation.cas import classification_accuracy_score

    try:
        data = load_labelled(real, image_size=shape[0] if shape[0] == shape[1] else None,
                             background=background)
    except DataError as e:
        return {"skipped": str(e)}
    if data.num_classes != num_classes or data.x_test.shape[1:] != tuple(shape):
        return {"skipped": f"{real} has {data.num_classes} classes of "
                           f"{'x'.join(map(str, data.x_test.shape[1:]))} images, the generator "
                           f"{num_classes} of {'x'.join(map(str, shape))}"}
    z_dim = generator.inputs[0].shape[-1]

    def sample_fn(labels):
        z = sample_latents(len(labels), z_dim, seed + 1)  # not the scored samples' latents
        return np.concatenate([
            keras.ops.convert_to_numpy(generator([z[i:i + 500], labels[i:i + 500]],
                                                 training=False))
            for i in range(0, len(labels), 500)])

    result = classification_accuracy_score(sample_fn, data.x_test, data.y_test, num_classes,
                                           seed=seed, x_real_train=data.x_train,
                                           y_real_train=data.y_train)
    return {**result, "held_out": data.held_out}


def _embedding_classes(generator) -> int:
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
    raise EvalError("conditional generator without a label Embedding layer")


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def write_report(result: dict, out_dir, run_dir=None) -> Path:
    """Writes eval.json, report.md and PNGs (samples, nearest neighbours,
    class histogram, loss curves when `run_dir` has metrics.csv)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = [f"# Evaluation of `{result['source']}`", "",
             f"{result['num_samples']} samples from seed {result['seed']}, scored against "
             f"`{result['real']}` in {result['eval_seconds']} s.", ""]
    if result["kind"] == "points":
        save_scatter(out / "samples.png", result["_samples"][:2500], result["_centres"],
                     title=f"{result['gan'] or 'generator'} on {result['real']}")
        m = result["modes"]
        lines += ["| modes covered | high quality | reverse KL |", "|---|---|---|",
                  f"| {m['modes']} / {m['num_modes']} | {100 * m['high_quality']:.1f}% | "
                  f"{_fmt(m['reverse_kl'])} |", "", "![samples](samples.png)"]
    else:
        fake, x_real, m = result["_samples"], result["_real"], result["metrics"]
        save_grid(out / "samples.png", fake[:64], scale=2)
        rows = nearest_real(fake, x_real)
        save_grid(out / "nearest.png", rows.reshape(-1, *rows.shape[2:]), cols=rows.shape[1],
                  scale=2)
        _class_histogram(out / "classes.png", m["class_coverage"]["fractions"],
                         m["reference"]["class_coverage"]["fractions"])
        ref = m["reference"]
        lines += ["| metric | generated | real halves (reference) |", "|---|---|---|"]
        name = m.get("extractor", "digit")
        lines[-1:-1] = [f"Features: {name} ({_conventions(m)}).", ""]
        for key, label in (("fd", f"{name} FD (lower is better)"),
                           ("score", f"{name} score (max {len(m['class_coverage']['fractions'])})"),
                           ("kid", "KID"),
                           ("precision", "precision"), ("recall", "recall")):
            lines.append(f"| {label} | {_fmt(m[key])} | {_fmt(ref[key])} |")
        cov, rcov = m["class_coverage"], ref["class_coverage"]
        lines.append(f"| smallest class share | {cov['min_fraction']:.3f} | "
                     f"{rcov['min_fraction']:.3f} |")
        lines.append(f"| class KL to uniform | {cov['kl_to_uniform']:.4f} | "
                     f"{rcov['kl_to_uniform']:.4f} |")
        if "class_tv" in m:
            lines.append(f"| class proportions, TV to real | {m['class_tv']:.3f} | "
                         f"{ref['class_tv']:.3f} |")
        if "conditional_accuracy" in m:
            lines.append(f"| generated class = asked class | "
                         f"{m['conditional_accuracy']:.4f} | - |")
        lines += _cas_lines(result.get("cas"))
        lines += ["", "Samples (fixed latents):", "", "![samples](samples.png)", "",
                  "Each row: a generated image, then its 5 nearest real images (pixel L2):", "",
                  "![nearest](nearest.png)", "", "Predicted classes, generated vs real:", "",
                  "![classes](classes.png)"]
    if run_dir and (Path(run_dir) / METRICS_FILE).exists():
        _loss_curves(Path(run_dir) / METRICS_FILE, out / "losses.png")
        lines += ["", f"Training curves (`{METRICS_FILE}`):", "", "![losses](losses.png)"]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    public = {k: v for k, v in result.items() if not k.startswith("_")}
    (out / "eval.json").write_text(json.dumps(public, indent=2) + "\n")
    return out


def _cas_lines(cas: dict | None) -> list[str]:
    if not cas:
        return []
    if "skipped" in cas:
        return ["", f"Classification accuracy score: skipped ({cas['skipped']})."]
    return ["", "Classification accuracy score (Ravuri & Vinyals 2019): a classifier trained "
            f"on {cas['examples_per_class']} generated images per class, tested on "
            f"{cas['num_test']} real held-out images ({cas['held_out']}), beside the same "
            f"classifier trained on as many real training images ({cas['classifier']}; "
            f"{cas['epochs']} epochs, seed {cas['seed']}):", "",
            "| trained on | held-out accuracy |", "|---|---|",
            f"| generated (CAS) | {cas['cas']:.4f} |",
            f"| real | {cas['real_accuracy']:.4f} |",
            f"| CAS / real | {_fmt(cas['ratio'])} |"]


def _conventions(m: dict) -> str:
    c = m.get("conventions") or {}
    return "; ".join(f"{k}: {v}" for k, v in c.items() if k != "extractor")


def _class_histogram(path, fractions, reference):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = np.arange(len(fractions))
    fig, ax = plt.subplots(figsize=(5, 2.5), dpi=100)
    ax.bar(k - 0.2, fractions, 0.4, label="generated")
    ax.bar(k + 0.2, reference, 0.4, label="real")
    ax.set_xticks(k)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("share")
    ax.legend(fontsize=7)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def _loss_curves(csv_path, path):
    """Each logged column of a metrics CSV against the epoch. A column that
    appeared on a --resume (or an epoch without an FD evaluation) has empty
    cells, read as NaN: its line starts where its values do."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(csv_path)
    fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
    epochs = np.array([r["epoch"] for r in rows])
    for name in (rows[0] if rows else {}):
        values = np.array([r[name] for r in rows])
        if name not in METRICS_INDEX and not np.isnan(values).all():
            ax.plot(epochs, values, label=name, marker=".")
    ax.set_xlabel("epoch")
    if ax.lines:
        ax.legend(fontsize=7)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
