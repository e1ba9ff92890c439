"""`keras-gan probe RUN`: the discriminator's features as a representation.

Radford et al. (2016, section 5.1) judged what a DCGAN's discriminator had
learnt by fitting a linear classifier on its features with few labels.
`probe(run)` does the same on a run folder, beside two baselines that say
what the training added: the same discriminator with fresh random weights
(`keras.models.clone_model`, seed `RANDOM_INIT_SEED`) and the raw pixels.

The features ("pooled features") are the input of D's final Dense head: the
vector D's own linear logit is computed from, so the probe asks how much of
the class is linearly readable from what D itself reads. Global-average-
pooled if that input is spatial (4D), flattened if it has any other rank
above 2. The shipped networks all end in a vector already: DCGAN's
flattened last conv (every position kept: pooling it would throw away the
layout D scores), the ResNet's global sum, the MLP's last hidden layer.
The paper instead max-pooled every conv layer to 4x4 grids; this probe keeps
to one layer, the one the head sees.

A conditional discriminator (cgan, clustered) is probed without labels:
its projection head meets the label only in a dot product with the
features, so the features are a function of the image alone. A custom D
whose features the label reaches earlier is fed label 0 for every image
(probed as "D told every image is class 0"). A packed discriminator
(PacGAN, pack > 1) scores packs, not images: refused in one line.

The classifier is multinomial logistic regression, fitted on the N labelled
training examples of each class (`keras_gan.data.labelled.select_labelled`,
one draw per seed) after standardizing each feature with those examples'
mean and standard deviation, and scored on the source's fixed held-out rows
(`load_labelled`). Its L2 penalty is the common default (C = 1: the summed
cross-entropy plus half the squared weights, as scikit-learn's
LogisticRegression), the same for every row and never tuned on the
held-out rows, so no row gains from a search the others did not get. The
fit is convex and starts at zero (scipy's L-BFGS, numpy gradients): the
seeds change only which examples are labelled.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from keras_gan.errors import UserError

DEFAULT_LABELS_PER_CLASS = (10, 100, 1000)
DEFAULT_SEEDS = (0, 1, 2)
RANDOM_INIT_SEED = 0
C = 1.0  # inverse L2 strength of the logistic regression (scikit-learn's default)
MAX_ITER = 1000
ROWS = ("D trained", "D random init", "raw pixels")


class ProbeError(UserError, ValueError):
    """The run or data cannot be probed as asked."""


# -- the linear classifier ---------------------------------------------------------------


def fit_logistic(x, y, num_classes: int, *, c: float = C, max_iter: int = MAX_ITER):
    """Multinomial logistic regression: (W (D, K), b (K,)) minimizing the summed
    cross-entropy of softmax(x W + b) plus |W|^2 / (2 c) (the bias is not
    penalized). Deterministic: L-BFGS from zero on a convex objective."""
    from scipy.optimize import minimize

    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.int64)
    n, d = x.shape
    k = int(num_classes)
    onehot = np.zeros((n, k), np.float32)
    onehot[np.arange(n), y] = 1.0

    def loss_and_grad(theta):
        # float32 products (the features can be 8,000 x 6,272), float64 totals.
        w = theta[:d * k].reshape(d, k).astype(np.float32)
        b = theta[d * k:].astype(np.float32)
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        loss = -float((onehot * log_p).sum(dtype=np.float64))
        loss += float((w.astype(np.float64) ** 2).sum()) / (2 * c)
        residual = np.exp(log_p) - onehot
        grad_w = x.T @ residual + w / c
        return loss, np.concatenate([grad_w.ravel(), residual.sum(axis=0)]).astype(np.float64)

    found = minimize(loss_and_grad, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                     options={"maxiter": max_iter})
    return found.x[:d * k].reshape(d, k), found.x[d * k:]


def standardize(train, test):
    """Both sets scaled with the train set's per-feature mean and standard
    deviation; a constant feature becomes 0, not NaN."""
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std[std < 1e-8] = 1.0
    return (train - mean) / std, (test - mean) / std


def linear_probe_accuracy(f_train, y_train, f_test, y_test, num_classes: int, *,
                          c: float = C) -> float:
    """Held-out accuracy of logistic regression fitted on standardized
    `f_train` (N, D) features with labels `y_train`."""
    f_train, f_test = standardize(np.asarray(f_train, np.float32),
                                  np.asarray(f_test, np.float32))
    w, b = fit_logistic(f_train, y_train, num_classes, c=c)
    pred = (f_test @ w + b).argmax(axis=1)
    return float((pred == np.asarray(y_test)).mean())


# -- the discriminator's features --------------------------------------------------------


def discriminator_of(model):
    """The discriminator of a whole GAN (gan.keras), or ProbeError."""
    d = getattr(model, "discriminator", None)
    if d is None:
        raise ProbeError(f"the model is a {type(model).__name__}, which has no "
                         "discriminator to probe")
    if int(getattr(model, "pack", 1)) > 1:
        raise ProbeError(f"a packed discriminator (PacGAN, pack={model.pack}) scores packs "
                         "of images, not single images: its features cannot be probed")
    return d


def _head(discriminator):
    """D's final Dense layer (or a SpectralNormalization around one)."""
    import keras

    for layer in reversed(discriminator.layers):
        inner = getattr(layer, "layer", layer)  # a wrapper's layer
        if isinstance(inner, keras.layers.Dense):
            return layer
    raise ProbeError(f"discriminator {discriminator.name!r} has no final Dense head")


def feature_model(discriminator):
    """images -> the pooled features (see the module docstring); for a
    conditional D whose features depend on the label, [images, labels]."""
    import keras

    features = _head(discriminator).input
    if len(features.shape) == 4:
        features = keras.layers.GlobalAveragePooling2D(name="probe_pool")(features)
    elif len(features.shape) > 2:
        features = keras.layers.Flatten(name="probe_flatten")(features)
    try:  # a projection head: the features are a function of the images alone
        return keras.Model(discriminator.inputs[0], features, name="probe_features")
    except ValueError:  # the label reaches them: `features` feeds label 0
        return keras.Model(discriminator.inputs, features, name="probe_features")


def features(model, x, batch_size: int = 256) -> np.ndarray:
    """The features of `x` (N, H, W, C) under `feature_model`'s `model`,
    which is given label 0 for every image if it takes labels."""
    import keras

    out = []
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size]
        inputs = batch if len(model.inputs) == 1 else [batch, np.zeros(len(batch), np.int64)]
        out.append(keras.ops.convert_to_numpy(model(inputs, training=False)))
    return np.concatenate(out).astype(np.float32)


def load_gan(run_dir):
    """(whole model of run folder `run_dir`'s gan.keras, its config dict)."""
    import keras

    import keras_gan.models.gans  # noqa: F401  (registers the GAN classes for loading)
    import keras_gan.models.vae  # noqa: F401
    from keras_gan.training import run_folder as rf
    from keras_gan.training.translate_export import is_translator_run

    run = Path(run_dir).expanduser()
    if not run.is_dir():
        raise ProbeError(f"no run folder at {run}: give the folder of a `keras-gan train` run")
    if is_translator_run(run):
        raise ProbeError(f"{run} is an image-to-image translation run: probe reads GANs "
                         "that sample from noise")
    path = run / rf.GAN_FILE
    if not path.is_file():
        raise ProbeError(f"{run} holds no {rf.GAN_FILE}: probe needs the whole GAN of a "
                         "finished `keras-gan train` run (an export keeps only the generator)")
    try:
        # safe_mode: a .keras file can hold Lambda layers with arbitrary code.
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as e:
        if "safe_mode" in str(e):
            raise ProbeError(rf.UNSAFE_MODEL.format(path=path)) from None
        detail = (str(e).strip().splitlines() or [""])[0][:300]
        raise ProbeError(f"cannot load {path}: {type(e).__name__}: {detail}") from None
    return model, rf.read_config(run) or {}


# -- the probe ---------------------------------------------------------------------------


def _mean_sd(values) -> tuple[float, float]:
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def probe(run_dir, *, labels_per_class=DEFAULT_LABELS_PER_CLASS, seeds=DEFAULT_SEEDS,
          dataset: str | None = None, c: float = C) -> dict:
    """Linear-probe accuracies of run `run_dir`'s discriminator, of the same
    network at random init, and of raw pixels.

    Args:
        labels_per_class: labelled training examples per class, one column
            each; each is capped at the smallest class's training rows.
        seeds: draws of the labelled examples (`select_labelled`).
        dataset: labelled source (default: the run's own data).

    Returns:
        A dict: the source and its held-out rows, the columns (N per class,
        as asked and as used), the feature sizes, and for each row of
        `ROWS` and each N the accuracy per seed, their mean and sd.
    """
    import keras

    from keras_gan.data.labelled import load_labelled, select_labelled
    from keras_gan.data.named import renamed

    if not seeds:
        raise ProbeError("--seeds needs at least one seed")
    if not labels_per_class or min(labels_per_class) < 1:
        raise ProbeError(f"--labels-per-class must be >= 1, got {list(labels_per_class)}")
    start = time.time()
    gan, config = load_gan(run_dir)
    trained = discriminator_of(gan)
    source = dataset or renamed(config.get("dataset"))
    if not source:
        raise ProbeError(f"{run_dir} names no dataset in its config.json: pass --dataset")
    shape = tuple(int(s) for s in trained.inputs[0].shape[1:])
    if len(shape) != 3:
        raise ProbeError(f"the discriminator reads {shape} samples, not images: the probe "
                         "needs an image GAN")
    data = load_labelled(source, image_size=shape[0],
                         background=config.get("background") or "white")
    if data.x_train.shape[1:] != shape:
        raise ProbeError(f"{source} holds {'x'.join(map(str, data.x_train.shape[1:]))} images "
                         f"but the discriminator reads {'x'.join(map(str, shape))}")
    counts = np.bincount(data.y_train, minlength=data.num_classes)
    used = sorted({min(int(n), int(counts.min())) for n in labels_per_class})
    if used[0] < 1:
        raise ProbeError(f"{source}: class {int(counts.argmin())} has no training rows")

    keras.utils.set_random_seed(RANDOM_INIT_SEED)
    random_init = keras.models.clone_model(trained)  # fresh weights from the initializers
    feats = {}
    for row, network in zip(ROWS[:2], (trained, random_init), strict=True):
        model = feature_model(network)
        feats[row] = (features(model, data.x_train), features(model, data.x_test))
    feats[ROWS[2]] = (data.x_train.reshape(len(data.x_train), -1),
                      data.x_test.reshape(len(data.x_test), -1))

    rows = {row: {} for row in ROWS}
    for n in used:
        draws = [select_labelled(data.y_train, n, seed) for seed in seeds]
        for row, (f_train, f_test) in feats.items():
            done = {}  # the same labelled rows give the same (deterministic) fit
            accs = []
            for rows_ in draws:
                key = rows_.tobytes()
                if key not in done:
                    done[key] = linear_probe_accuracy(f_train[rows_], data.y_train[rows_],
                                                      f_test, data.y_test, data.num_classes,
                                                      c=c)
                accs.append(done[key])
            mean, sd = _mean_sd(accs)
            rows[row][str(n)] = {"mean": mean, "sd": sd, "accuracies": accs}
    return {
        "run": str(run_dir), "gan": config.get("gan"), "dataset": source,
        "held_out": data.held_out, "num_train": int(len(data.y_train)),
        "num_test": int(len(data.y_test)), "num_classes": data.num_classes,
        "labels_per_class": used, "requested": [int(n) for n in labels_per_class],
        "class_sizes": [int(counts.min()), int(counts.max())], "seeds": [int(s) for s in seeds],
        "features": {row: int(f[0].shape[1]) for row, f in feats.items()},
        "classifier": f"multinomial logistic regression, L2 C={c:g}, standardized features",
        "random_init_seed": RANDOM_INIT_SEED, "rows": rows,
        "seconds": round(time.time() - start, 2),
    }


def report_markdown(result: dict, command: str | None = None) -> str:
    """The result as a markdown table: rows `ROWS`, columns N per class,
    cells mean +- sd of the held-out accuracy over the seeds."""
    seeds = ", ".join(map(str, result["seeds"]))
    smallest, largest = result["class_sizes"]
    columns = [f"{n} per class" + (" (all)" if n == largest else
                                   " (capped: smallest class)" if n == smallest
                                   and n not in result["requested"] else "")
               for n in result["labels_per_class"]]
    lines = [f"# Linear probe of `{result['run']}`'s discriminator", "",
             f"Held-out accuracy of {result['classifier']}, fitted on N labelled training "
             f"examples per class of `{result['dataset']}` and tested on its "
             f"{result['num_test']} held-out rows ({result['held_out']}); mean ± sample sd over "
             f"the label draws of seeds {seeds}. Features: the input of D's final Dense head "
             f"(random init: the same network, seed {result['random_init_seed']}).", "",
             "| features | dim | " + " | ".join(columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for row in ROWS:
        cells = [f"{c['mean']:.3f} ± {c['sd']:.3f}"
                 for c in (result["rows"][row][str(n)] for n in result["labels_per_class"])]
        lines.append(f"| {row} | {result['features'][row]} | " + " | ".join(cells) + " |")
    if command:
        lines += ["", f"Made by `{command}` in {result['seconds']} s."]
    return "\n".join(lines) + "\n"


def write_report(result: dict, out_md, command: str | None = None) -> tuple[Path, Path]:
    """Writes OUT.md (`report_markdown`) and OUT.json beside it; returns both paths."""
    md = Path(out_md)
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(report_markdown(result, command))
    js = md.with_suffix(".json")
    js.write_text(json.dumps({**result, "command": command}, indent=2) + "\n")
    return md, js
