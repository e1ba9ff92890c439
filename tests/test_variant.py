"""keras_gan/models/variant.py and the registry around it: each registry entry owns
its variant (options, recipe, data, networks, sampler), and the glue names
none. Tests are generated from the registry."""

import ast
import json
from pathlib import Path

import keras
import pytest

from keras_gan.cli import main
from keras_gan.config import ConfigError, TrainConfig
from keras_gan.models.gans import configure, get_gan, list_gans, list_variants
from keras_gan.training.trainer import TrainError, train

ROOT = Path(__file__).resolve().parents[1]


def tiny(tmp_path, name, **changes):
    """The smallest run of variant `name` on the 2D ring: two steps."""
    fields = dict(gan=name, dataset="ring", arch="mlp", width=8, depth=1, latent_dim=3,
                  batch_size=16, epochs=1, steps_per_epoch=2, clusters=4, verbose=0,
                  tensorboard=False, fd_every=0, checkpoint_every=1000, num_samples=8,
                  out=str(tmp_path / name))
    return configure({**fields, **changes})


# The ring is unlabelled: conditional variants get the labelled digits below.
@pytest.mark.parametrize("name", [n for n in list_variants() if not get_gan(n).conditional])
def test_each_variant_trains_through_the_glue_and_saves_its_sampler(name, tmp_path):
    variant = get_gan(name)
    cfg = tiny(tmp_path, name)
    result = train(cfg)
    assert result.step == 2
    assert isinstance(result.model, variant.cls)
    saved = json.loads((result.run_dir / "config.json").read_text())
    assert saved["gan_options"] == variant.resolve_options({})  # defaults stored
    generator = keras.saving.load_model(result.run_dir / "generator.keras", safe_mode=True)
    # What users sample takes z alone, whatever the networks take.
    assert [i.name for i in generator.inputs] == ["z"]
    assert generator.inputs[0].shape[-1] == cfg.latent_dim


def test_a_conditional_variant_trains_on_labelled_images(tmp_path):
    cfg = configure(gan="cgan", width=4, batch_size=8, epochs=1, steps_per_epoch=2,
                    verbose=0, tensorboard=False, fd_every=0, out=str(tmp_path / "c"))
    result = train(cfg)
    generator = keras.saving.load_model(result.run_dir / "generator.keras", safe_mode=True)
    assert [i.name for i in generator.inputs] == ["z", "labels"]
    assert result.model.num_classes == 10


@pytest.mark.parametrize("name", list_variants())
def test_options_resolve_and_are_checked_by_their_variant(name):
    variant = get_gan(name)
    defaults = variant.resolve_options({})
    assert defaults == {k: o.default for k, o in variant.options.items()}
    with pytest.raises(ConfigError, match=rf"--gan {name} has no option nope \(its options"):
        variant.resolve_options({"nope": 1})
    for key in variant.options:
        with pytest.raises(ConfigError, match=rf"--gan {name}: option {key} must be"):
            variant.resolve_options({key: "text"})


@pytest.mark.parametrize("name, key, bad, message", [
    ("pacgan", "pack", 0, "--gan pacgan: option pack must be >= 1, got 0"),
    ("pacgan", "pack", "two", "--gan pacgan: option pack must be an integer, got 'two'"),
    ("wgan", "clip_value", 0.0, "--gan wgan: option clip_value must be > 0, got 0.0"),
    ("wgan-gp", "gp_weight", -1.0, "--gan wgan-gp: option gp_weight must be >= 0, got -1.0"),
    ("unrolled", "unroll_steps", -1, "--gan unrolled: option unroll_steps must be >= 0, got -1"),
    ("vae", "beta", -0.5, "--gan vae: option beta must be >= 0, got -0.5"),
])
def test_option_rules(name, key, bad, message):
    with pytest.raises(ConfigError) as e:
        get_gan(name).resolve_options({key: bad})
    assert str(e.value) == message


def test_options_reach_the_model_and_config_json(tmp_path):
    cfg = tiny(tmp_path, "pacgan", gan_options={"pack": 4})
    assert cfg.gan_options == {"pack": 4}
    result = train(cfg)
    assert result.model.pack == 4
    assert tuple(result.model.discriminator.inputs[0].shape[1:]) == (8,)  # 4 points of 2
    saved = json.loads((result.run_dir / "config.json").read_text())
    assert saved["gan_options"] == {"pack": 4}
    # --resume with the same options continues from step 2 to 4 with them;
    # other options are refused.
    again = train(cfg.replace(resume=True, epochs=2))
    assert again.step == 4 and int(again.model.g_optimizer.iterations.numpy()) == 4
    assert again.model.pack == 4
    assert tuple(again.model.discriminator.inputs[0].shape[1:]) == (8,)
    assert json.loads((result.run_dir / "config.json").read_text())["gan_options"] == {
        "pack": 4}
    with pytest.raises(TrainError) as e:
        train(tiny(tmp_path, "pacgan", gan_options={"pack": 2}).replace(resume=True))
    assert str(e.value).startswith(f"cannot resume {tmp_path}/pacgan with a different config "
                                   "(gan_options: {'pack': 4} -> {'pack': 2}); only these may "
                                   "change: ")


def test_the_cli_takes_gan_options_from_flags_and_yaml(tmp_path, capsys):
    yaml = tmp_path / "c.yaml"
    yaml.write_text("gan: unrolled\ngan_options: {unroll_steps: 2}\n")
    assert main(["train", "--config", str(yaml), "--gan-option", "unroll_learning_rate=0.5",
                 "--dry-run"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["gan_options"] == {"unroll_steps": 2, "unroll_learning_rate": 0.5}
    assert main(["train", "--gan", "wgan", "--gan-option", "pack=4", "--dry-run"]) == 2
    assert "--gan wgan has no option pack (its options: clip_value)" in capsys.readouterr().err


def test_a_bare_option_flag_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--gan-option", "pack", "--dry-run"])
    assert capsys.readouterr().err.splitlines()[-1] == (  # argparse's: below its usage block
        "keras-gan train: error: argument --gan-option: expected NAME=VALUE, got 'pack'")


def test_recipes_apply_unless_the_user_sets_the_field(capsys):
    dcgan = configure(gan="dcgan")
    assert (dcgan.optimizer, dcgan.d_lr, dcgan.g_lr, dcgan.beta_1, dcgan.ema_decay) == (
        "adam", 2e-4, 2e-4, 0.5, 0.0)
    assert configure(gan="dcgan", d_lr=1e-3).d_lr == 1e-3
    wgan = configure(gan="wgan")
    assert (wgan.optimizer, wgan.d_lr, wgan.d_steps) == ("rmsprop", 5e-5, 5)
    gp = configure(gan="wgan-gp")
    assert (gp.beta_1, gp.beta_2, gp.d_steps, gp.d_lr) == (0.0, 0.9, 5, 1e-4)
    # No recipe: the config's defaults (the default preset's).
    assert configure(gan="nsgan") == TrainConfig(gan="nsgan")
    # --dry-run says which recipe values the run takes (stderr; stdout stays JSON).
    assert main(["train", "--gan", "dcgan", "--g-lr", "0.001", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["g_lr"] == 0.001 and json.loads(out)["d_lr"] == 2e-4
    assert "recipe of --gan dcgan: optimizer=adam, d_lr=0.0002" in err
    assert "set otherwise: g_lr=0.001" in err


def test_every_recipe_field_is_a_config_field():
    fields = set(TrainConfig.__dataclass_fields__)
    for name in list_variants():
        assert set(get_gan(name).recipe) <= fields, name


def _names_in(path: Path) -> set[str]:
    """String constants and names of a Python file (not attributes: `cfg.gan`
    is the config's field, not the variant "gan")."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add(node.name.rsplit(".", 1)[-1])
    return names


@pytest.mark.parametrize("path", ["keras_gan/training/trainer.py", *sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "export").glob("*.py"))])
def test_the_glue_and_the_exporter_name_no_variant(path):
    variant_words = set(list_variants())
    for name in list_variants():
        cls = get_gan(name).cls
        variant_words |= {cls.__name__, type(get_gan(name)).__name__}
    variant_words -= {"GAN", "Variant"}  # the base classes are everyone's
    # "gan" is also the config's field (and the card's key) naming the variant.
    variant_words -= set(TrainConfig.__dataclass_fields__)
    found = _names_in(ROOT / path) & variant_words
    assert not found, f"{path} names variants: {sorted(found)}"
    # Nor the clustered variant's ONNX nodes or k-means (its data preparation).
    text = (ROOT / path).read_text()
    assert "latent_cluster" not in text and "kmeans" not in text


def test_gan_variants_are_the_registry_less_the_vae():
    assert "vae" in list_variants() and "vae" not in list_gans()
    assert set(list_gans()) | {"vae"} == set(list_variants())
    for name in list_variants():
        assert get_gan(name).description.strip(), name


def test_plan_without_data_needs_classes_only_for_conditional_variants():
    from keras_gan.models.variant import DataPlan

    assert get_gan("gan").plan_without_data(None, clusters=4) == DataPlan()
    assert get_gan("cgan").plan_without_data(3, clusters=4) == DataPlan(with_labels=True,
                                                                        num_classes=3)
    with pytest.raises(ConfigError) as e:
        get_gan("cgan").plan_without_data(None, clusters=4)
    assert str(e.value) == "--gan cgan is conditional: it needs labelled data (num_classes)"
    # clustered: k clusters, none seen yet, so each equally likely
    assert get_gan("clustered").plan_without_data(None, clusters=4) == DataPlan(
        num_classes=4, model_kwargs={"cluster_prior": [0.25] * 4})


def test_variants_options_and_plans_are_frozen():
    """A variant is a registry entry shared by every run: nothing may alter it."""
    import dataclasses

    from keras_gan.models.variant import DataPlan, Option

    for obj, name in ((get_gan("gan"), "name"), (DataPlan(), "num_classes"),
                      (Option(1, "any"), "default")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, 3)
    for name in list_gans():  # no attribute at all, not even a new one
        with pytest.raises(dataclasses.FrozenInstanceError):
            get_gan(name).cache = {}


def _built(name, **options):
    from keras_gan.models.variant import DataPlan

    keras.utils.set_random_seed(0)
    return get_gan(name).build(arch="mlp", sample_shape=(2,), plan=DataPlan(), latent_dim=3,
                               width=8, depth=1, spectral_norm=False,
                               options=get_gan(name).resolve_options(options), seed=0)


def test_build_makes_the_networks_once_unless_d_sees_other_samples():
    """A variant whose D takes the samples keeps the first pair build_networks
    makes (the same weights under the same seed); PacGAN's D, which takes packs,
    is built again for them."""
    from keras_gan.models.networks import build_networks

    keras.utils.set_random_seed(0)
    g, d = build_networks("mlp", 3, (2,), 8, 1)
    model = _built("gan")
    for a, b in ((g, model.generator), (d, model.discriminator)):
        for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
            assert (wa == wb).all()
    assert tuple(_built("pacgan", pack=3).discriminator.inputs[0].shape[1:]) == (6,)
    from keras_gan.models.variant import DataPlan

    with pytest.raises(TypeError, match="positional"):  # keyword-only: no swapped argument
        get_gan("gan").build("mlp", (2,), DataPlan(), 3, 8, 1, False, {})
    with pytest.raises(TypeError, match="positional"):  # compile's flags: keywords too
        get_gan("gan").compile(model, keras.optimizers.Adam, 1, False, 1)
    get_gan("gan").compile(model, lambda role, updates: keras.optimizers.Adam(), d_steps=1,
                           jit_compile=False, steps_per_execution=1)


def test_sampler_is_the_ema_generator_unless_asked_for_the_raw_one():
    from keras_gan.models.variant import DataPlan

    variant = get_gan("gan")
    model = variant.build(arch="mlp", sample_shape=(2,), plan=DataPlan(), latent_dim=3, width=8,
                          depth=1, spectral_norm=False, options={}, seed=0, ema_decay=0.9)
    assert variant.sampler(model) is model.ema_generator
    assert variant.sampler(model, ema=False) is model.generator


def test_an_option_without_a_rule_takes_any_value_of_its_type():
    from keras_gan.models.variant import Option

    assert Option(default=1, help="h").validate("v", "n", 7) == 7
    assert Option(default=None, help="h", type=float).validate("v", "n", 2) == 2.0
    with pytest.raises(ConfigError) as e:
        Option(default=1, help="h").validate("v", "n", "7")
    assert str(e.value) == "--gan v: option n must be an integer, got '7'"
