"""Figure 2: vanishing gradients (Goodfellow et al. 2014, Section 3;
Goodfellow 2016, NIPS tutorial, Figure 16).

Left: the generator's losses as the library computes them
(`keras_gan.models.losses.minimax_g_loss`, the saturating log(1 - D(G(z))), and
`non_saturating_g_loss`, -log D(G(z))), and the size of their gradient with
respect to D's logit (by autodiff), as functions of D(G(z)): D(G(z)) for the
saturating loss, 1 - D(G(z)) for the other. Where D confidently rejects the
fakes (D(G(z)) -> 0) the first vanishes and the second does not.

Right: the same, measured in a real run where D wins early. One generator
and one discriminator pre-trained alone until it rejects the fakes (1D
data far from where G starts); then two `GAN`s from identical copies, one
per loss, trained by `fit` with `grad_norms=True`, a
`keras_gan.training.callbacks.StepHistory` recording each step's generator gradient
norm, D(G(z)) and the generator's mean. The generator uses plain SGD, as in
the paper: Adam would rescale a vanishing gradient back to full-sized
steps and hide what the loss does.
"""

from __future__ import annotations

import numpy as np

from keras_gan.figures import common

NAME = "saturation"
TITLE = "Vanishing gradients"
FULL = dict(data="gauss1d:3,0.5", pretrain=300, steps=400, batch=256, width=32, d_lr=1e-3,
            g_lr=0.02, first=50)
TINY = dict(data="gauss1d:3,0.5", pretrain=200, steps=60, batch=256, width=32, d_lr=1e-3,
            g_lr=0.02, first=30)


def loss_curves(num: int = 401) -> dict:
    """The two generator losses and |d loss / d logit| per sample, by autodiff
    of the library's loss functions, on logits from -12 to 12."""
    import tensorflow as tf

    from keras_gan.models.losses import minimax_g_loss, non_saturating_g_loss

    z = tf.constant(np.linspace(-12.0, 12.0, num), tf.float32)
    out = {"d": common.sigmoid(z.numpy())}
    for name, fn in (("saturating", minimax_g_loss), ("non_saturating", non_saturating_g_loss)):
        with tf.GradientTape() as tape:
            tape.watch(z)
            # Each loss is a batch mean: times the batch size, the
            # per-sample loss of each logit, and its own gradient.
            per_sample = [fn(z[i:i + 1]) for i in range(num)]
            total = tf.add_n(per_sample)
        out[name] = np.array([float(v) for v in per_sample])
        out[f"{name}_grad"] = np.abs(tape.gradient(total, z).numpy())
    return out


def make(out_dir, *, tiny: bool = False, seed: int = 0, progress: bool = True,
         **overrides) -> dict:
    import keras

    from keras_gan.data.pipeline import make_dataset
    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_mlp_discriminator, build_mlp_generator
    from keras_gan.training.callbacks import StepHistory

    s = {**(TINY if tiny else FULL), **overrides}
    bar = common.Progress(s["pretrain"] + 2 * s["steps"], NAME, progress)
    curves = loss_curves()

    keras.utils.set_random_seed(seed)
    g = build_mlp_generator(1, (1,), width=s["width"])
    d = build_mlp_discriminator((1,), width=s["width"])
    ds, _ = make_dataset(s["data"], s["batch"], seed=seed, num_points=100_000)
    pre = build_gan("nsgan", g, d, seed=seed)
    pre.compile(keras.optimizers.Adam(s["d_lr"], beta_1=0.5), keras.optimizers.SGD(0.0))
    common.d_trainer(pre)(ds, s["pretrain"])  # D wins early: G is still at its start
    bar.update(s["pretrain"])

    runs = {}
    for name, variant in (("saturating", "gan"), ("non_saturating", "nsgan")):
        g2, d2 = keras.models.clone_model(g), keras.models.clone_model(d)
        g2.set_weights(g.get_weights())
        d2.set_weights(d.get_weights())
        gan = build_gan(variant, g2, d2, seed=seed, grad_norms=True)
        gan.compile(keras.optimizers.Adam(s["d_lr"], beta_1=0.5),
                    keras.optimizers.SGD(s["g_lr"]))
        history = StepHistory(["g_grad_norm", "d_fake"])
        means = _GeneratorMean()
        gan.fit(ds, epochs=1, steps_per_epoch=s["steps"], verbose=0,
                callbacks=[history, means, common.progress_callback(bar)])
        runs[name] = dict(steps=history.steps, g_grad_norm=history.history["g_grad_norm"],
                          d_fake=history.history["d_fake"], g_mean=means.values,
                          g_mean_start=means.start)
    bar.close()

    first = s["first"]
    numbers = {}
    for name, r in runs.items():
        numbers[name] = dict(
            median_g_grad_norm_first=float(np.median(r["g_grad_norm"][:first])),
            d_fake_start=float(r["d_fake"][0]),
            g_mean_start=r["g_mean_start"], g_mean_end=float(r["g_mean"][-1]))
    numbers["grad_ratio_first"] = (numbers["non_saturating"]["median_g_grad_norm_first"]
                                   / numbers["saturating"]["median_g_grad_norm_first"])
    # The autodiff curves against the closed forms D and 1 - D.
    numbers["curve_error"] = float(max(
        np.abs(curves["saturating_grad"] - curves["d"]).max(),
        np.abs(curves["non_saturating_grad"] - (1 - curves["d"])).max()))

    plt = common.pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    ax = axes[0]
    ax.plot(curves["d"], curves["saturating"], "r-", label="log(1 - D(G(z))) (minimax)")
    ax.plot(curves["d"], curves["non_saturating"], "b-", label="-log D(G(z)) (non-saturating)")
    ax.set_xlabel("D(G(z))")
    ax.set_ylabel("generator loss")
    ax.set_title("the two generator losses", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.loglog(curves["d"], curves["saturating_grad"], "r-", label="minimax: = D(G(z))")
    ax.loglog(curves["d"], curves["non_saturating_grad"], "b-",
              label="non-saturating: = 1 - D(G(z))")
    ax.set_xlabel("D(G(z))")
    ax.set_ylabel("|d loss / d logit|")
    ax.set_title("gradient reaching G, per sample", fontsize=9)
    ax.legend(fontsize=7)
    colours = {"saturating": "r", "non_saturating": "b"}
    labels = {"saturating": "gan (minimax)", "non_saturating": "nsgan"}
    for name, r in runs.items():
        axes[2].semilogy(r["steps"], r["g_grad_norm"], colours[name] + "-", lw=1,
                         label=labels[name])
        axes[3].plot(r["steps"], r["g_mean"], colours[name] + "-", label=labels[name])
        axes[3].plot(r["steps"], r["d_fake"], colours[name] + ":", lw=1)
    axes[2].set_xlabel("generator step")
    axes[2].set_ylabel("g_grad_norm")
    axes[2].set_title("measured: D pre-trained, then fit", fontsize=9)
    axes[2].legend(fontsize=7)
    axes[3].axhline(float(s["data"].split(":")[1].split(",")[0]), color="k", ls="--", lw=0.8,
                    label="data mean")
    axes[3].set_xlabel("generator step")
    axes[3].set_title("mean of G's samples (solid), D(G(z)) (dotted)", fontsize=9)
    axes[3].legend(fontsize=7)
    fig.suptitle("Saturating vs non-saturating generator loss: the gradient vanishes "
                 "where D rejects the fakes", fontsize=10)
    files = [common.save(fig, f"{out_dir}/saturation.png")]
    return dict(files=files, settings=dict(s), numbers=_round(numbers))


def _GeneratorMean():
    """A callback recording the mean of 2,000 generator samples (fixed z)
    after each step."""
    import keras

    z = np.random.default_rng(123).standard_normal((2000, 1)).astype(np.float32)

    class GeneratorMean(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.values = []

        def on_train_begin(self, logs=None):
            self.start = float(np.mean(self.model.generator(z, training=False)))

        def on_train_batch_end(self, batch, logs=None):
            self.values.append(float(np.mean(self.model.generator(z, training=False))))

    return GeneratorMean()


def _round(value, digits: int = 6):
    if isinstance(value, dict):
        return {k: _round(v, digits) for k, v in value.items()}
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    return value
