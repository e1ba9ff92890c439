"""The `train` flags, generated from `TrainConfig`'s fields (the dataclass is
the one definition of an option), and the config they resolve to:
defaults < --config YAML < flags; with --resume, the run folder's saved
config.json replaces the defaults and YAML."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from keras_gan.config import TrainConfig, default_run_dir, read_yaml
from keras_gan.errors import UserError


def _parse_optional(kind):
    def parse(text: str):
        return None if text.lower() in ("none", "null", "") else kind(text)

    parse.__name__ = kind.__name__  # argparse names the type in its errors
    return parse


_TYPES = {"int": int, "float": float, "str": str,
          "int | None": _parse_optional(int), "str | None": _parse_optional(str)}


def add_config_flags(parser: argparse.ArgumentParser, cls=TrainConfig) -> None:
    """One flag per dataclass field: --batch-size for batch_size, with the
    field's help text and default. Defaults are SUPPRESSed so that the
    parsed namespace holds only what the user typed."""
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        if f.type == "dict":  # gan_options: --gan-option NAME=VALUE, repeatable
            parser.add_argument(flag.rstrip("s"), dest=f.name, action="append",
                                type=_option_pair, default=argparse.SUPPRESS,
                                metavar="NAME=VALUE", help=f.metadata.get("help", ""))
            continue
        help_text = f"{f.metadata.get('help', '')} (default: {f.default})"
        if f.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction,
                                default=argparse.SUPPRESS, help=help_text)
            continue
        parser.add_argument(flag, type=_TYPES[f.type], default=argparse.SUPPRESS,
                            choices=f.metadata.get("choices"), metavar=f.name.upper(),
                            help=help_text)


def _option_pair(text: str) -> tuple[str, object]:
    """'pack=4' -> ('pack', 4): the value read as YAML (numbers, null, true)."""
    import yaml

    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value
    return name.strip().replace("-", "_"), parsed


def resolve_config(args: argparse.Namespace) -> TrainConfig:
    """defaults < YAML < flags; with --resume the run's config.json is the base."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    flags = {k: v for k, v in vars(args).items() if k in names}
    values = read_yaml(args.config) if args.config else {}
    if "gan_options" in flags:  # flag pairs update the YAML's mapping
        pairs = flags.pop("gan_options")
        base = values.get("gan_options") or {}
        if not isinstance(base, dict):
            raise UserError(f"{args.config}: gan_options must be a mapping of name: value")
        values["gan_options"] = {**base, **dict(pairs)}
    values.update(flags)
    if values.get("resume"):
        from keras_gan.training.run_folder import read_config

        defaults = TrainConfig()
        run_dir = Path(values.get("out") or default_run_dir(
            values.get("gan", defaults.gan), values.get("dataset", defaults.dataset)))
        saved = read_config(run_dir)
        if saved is not None:
            # The run goes on where it was found: a moved or copied folder's
            # config.json still names where it was trained.
            values = {**saved, **values, "out": values.get("out") or str(run_dir)}
    # The variant's recipe and options (imports the registry: TensorFlow).
    from keras_gan.models.gans import configure

    return configure(values, source=args.config or "flags")
