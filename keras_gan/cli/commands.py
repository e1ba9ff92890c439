"""The subcommands of `keras-gan`: for each, the function that adds its
arguments and the one that runs it, in `COMMANDS` (name -> (add_arguments,
run, help)). Each imports what it needs (TensorFlow among it) when it runs,
so that `--help` is instant."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from keras_gan.cli.flags import add_config_flags, resolve_config
from keras_gan.config import EVALUATORS, SOURCES_HELP, TrainConfig
from keras_gan.errors import UserError


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    # The list of --dataset sources, laid out as written (a bad source's error
    # line points here).
    parser.epilog = SOURCES_HELP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--config", metavar="FILE.yaml",
                        help="YAML file of option: value defaults (flags override it)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the resolved config as JSON and exit")
    parser.add_argument("--list-gans", action="store_true",
                        help="list the registered GAN variants and exit")
    add_config_flags(parser)


def _train(args: argparse.Namespace) -> int:
    if args.list_gans:
        from keras_gan.models.gans import get_gan, list_variants

        for name in list_variants():
            variant = get_gan(name)
            print(f"{name:10s} loss={variant.loss or '-':15s} {variant.description}")
            for key, opt in variant.options.items():
                default = "null" if opt.default is None else opt.default
                print(f"{'':12s}--gan-option {key}={default}: {opt.help}")
            if variant.recipe:
                print(f"{'':12s}recipe: " + ", ".join(f"{k}={v}" for k, v in
                                                      variant.recipe.items()))
        from keras_gan.models.translation.registry import TRANSLATORS

        for name, entry in TRANSLATORS.items():  # image-to-image: --dataset takes pairs
            print(f"{name:10s} {'translator':21s} {entry.description}")
            for key, opt in get_gan(name).options.items():
                default = "null" if opt.default is None else opt.default
                print(f"{'':12s}--gan-option {key}={default}: {opt.help}")
        semi = get_gan("ssgan")
        print(f"{semi.name:10s} {'semi-supervised':21s} {semi.description}")
        for key, opt in semi.options.items():
            print(f"{'':12s}--gan-option {key}={opt.default}: {opt.help}")
        return 0
    cfg = resolve_config(args)
    if args.dry_run:
        print(json.dumps(cfg.to_dict(), indent=2))
        _print_recipe(cfg, args)
        return 0
    from keras_gan.training.trainer import train

    result = train(cfg)
    run = result.run_dir
    if not result.chief:  # only the chief wrote the run folder
        print(f"\nWorker done at step {result.step}; the chief wrote {run}/")
        return 0
    from keras_gan.models.translation.registry import TRANSLATORS

    translator = cfg.gan in TRANSLATORS
    print(f"\nTrained to step {result.step}. Results in {run}/:\n"
          f"  samples/      images of fixed "
          f"{'validation sources translated' if translator else 'latents'}, one per epoch\n"
          f"  metrics.csv   losses and D outputs per epoch\n"
          f"  {'translator' if translator else 'generator'}.keras, gan.keras   "
          "the trained models\n"
          + ("  classifier.keras, labels.json   D as a classifier; the labelled rows "
             "and the held-out error\n" if cfg.gan == "ssgan" else "") +
          f"  logs/         TensorBoard: tensorboard --logdir {run / 'logs'}")
    return 0


def _print_recipe(cfg: TrainConfig, args: argparse.Namespace) -> None:
    """On stderr (stdout stays JSON): which of the variant's recipe settings
    the run takes, and which the user set otherwise."""
    from keras_gan.models.gans import get_gan

    recipe = get_gan(cfg.gan).recipe
    if not recipe:
        return
    taken = {k: v for k, v in recipe.items() if getattr(cfg, k) == v}
    overridden = {k: getattr(cfg, k) for k in recipe if k not in taken}
    line = f"recipe of --gan {cfg.gan}: " + ", ".join(f"{k}={v}" for k, v in taken.items())
    if overridden:
        line += "; set otherwise: " + ", ".join(f"{k}={v}" for k, v in overridden.items())
    print(line, file=sys.stderr)


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="RUN_OR_MODEL",
                        help="a run folder, a .keras file (generator or GAN) or an export")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write, e.g. saved_models/NAME")
    parser.add_argument("--name", help="model name on the card (default: the folder name)")
    parser.add_argument("--fp16", action="store_true",
                        help="also write generator_fp16.onnx for GPUs (error vs fp32 on "
                             "the card)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the contents of a non-empty --out")


def _export(args: argparse.Namespace) -> int:
    from keras_gan.training.run_folder import export_run
    from keras_gan.training.translate_export import export_translator_run, is_translator_run

    if is_translator_run(args.source):  # pix2pix, CycleGAN, ...: image -> image
        card = export_translator_run(args.source, args.out, name=args.name,
                                     overwrite=args.overwrite)
        for sub, c in ({"": card} if card.get("kind") else card).items():
            print(f"Exported {c['name']} (translator {c['source_domain']} -> "
                  f"{c['target_domain']}, {c['image_shape']} -> {c['output_shape']}) to "
                  f"{Path(args.out) / sub}/: {', '.join(c['files'].values())}, model.json")
        return 0
    card = export_run(args.source, args.out, name=args.name, fp16=args.fp16,
                      overwrite=args.overwrite)
    files = ", ".join(card["files"].values())
    print(f"Exported {card['name']} ({card['kind']}, latent_dim {card['latent_dim']}, "
          f"output {card['image_shape']}) to {args.out}/: {files}, model.json")
    return 0


def _encoder_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="RUN_OR_MODEL",
                        help="an exported model folder (the encoder is written into it), "
                             "or a run folder / .keras file (exported to --out first)")
    parser.add_argument("--out", metavar="DIR",
                        help="export folder to write (required unless SOURCE is one)")
    parser.add_argument("--dataset", metavar="SOURCE",
                        help="real images for the image term (default: the model's "
                             "training data; mnist-sample leaves out the evaluator's "
                             "held-out digits)")
    parser.add_argument("--steps", type=int, default=2000,
                        help="training steps (default: 2000, ~2 CPU minutes for 28x28)")
    parser.add_argument("--batch-size", type=int, default=64, help="(default: 64)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="(default: 0.001)")
    parser.add_argument("--image-weight", type=float, default=1.0,
                        help="weight of |G(E(x)) - x|^2 on real images (default: 1)")
    parser.add_argument("--width", type=int, default=32,
                        help="the encoder's first convolution width (default: 32)")
    parser.add_argument("--seed", type=int, default=0, help="(default: 0)")
    parser.add_argument("--evaluator", default="auto", choices=EVALUATORS,
                        help="features in the projector's loss when --feature-weight > 0 "
                             "(default: auto)")
    parser.add_argument("--feature-weight", type=float, default=0.1,
                        help="weight of the evaluator's features in projector_features.onnx"
                             "'s loss; 0 writes only the pixel projector (default: 0.1)")
    parser.add_argument("--reuse", action="store_true",
                        help="train nothing: write encoder.onnx and the projectors again "
                             "from the folder's encoder.keras (after changing --prior-weight "
                             "or --feature-weight)")
    parser.add_argument("--prior-weight", type=float, default=0.01,
                        help="pull of refined latents toward the norm of N(0, I) draws "
                             "(default: 0.01)")


def _encoder(args: argparse.Namespace) -> int:
    from keras_gan.models.encoder import encoder_for

    for name in ("steps", "batch_size", "width"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be >= 1, got "
                            f"{getattr(args, name)}")
    if args.learning_rate <= 0 or min(args.image_weight, args.feature_weight,
                                      args.prior_weight) < 0:
        raise UserError("--learning-rate must be > 0 and the weights >= 0")
    entry = encoder_for(args.source, args.out, dataset=args.dataset, steps=args.steps,
                        batch_size=args.batch_size, learning_rate=args.learning_rate,
                        image_weight=args.image_weight, width=args.width, seed=args.seed,
                        evaluator=args.evaluator, feature_weight=args.feature_weight,
                        prior_weight=args.prior_weight, reuse=args.reuse)
    where = args.out or args.source
    final = ", ".join(f"{k} {v}" for k, v in entry["final"].items())
    print(f"Encoder {'reused' if args.reuse else 'trained'} in {entry['train_seconds']} s "
          f"({final}); wrote "
          f"{', '.join(entry['files'].values())} and the card's 'encoder' entry in {where}/")
    return 0


def _eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="MODEL_OR_RUN",
                        help="a run folder, an exported model folder or a .keras generator")
    parser.add_argument("--out", metavar="DIR",
                        help="report folder (default: SOURCE/eval, or beside a .keras file)")
    parser.add_argument("--num-samples", type=int, default=10_000,
                        help="generated samples to score (default: 10000, the protocol's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latents (default: 0)")
    parser.add_argument("--real", metavar="SOURCE",
                        help="reference data source (default: the model's training data)")
    parser.add_argument("--evaluator", default="auto", choices=EVALUATORS,
                        help="feature extractor: auto (the one trained on the model's data: "
                             "digit for MNIST, emoji for emoji64), digit, emoji, inception "
                             "(default: auto)")
    parser.add_argument("--classifier", metavar="PATH",
                        help="the digit or emoji classifier's .keras (default: the shipped one)")
    parser.add_argument("--split", default="test", choices=("test", "val", "train"),
                        help="translators: the pairs to score (default: test, the held-out "
                             "emoji; your own data has only train)")
    parser.add_argument("--direction", default="ab", choices=("ab", "ba"),
                        help="translators: ab, or ba for a CycleGAN's other generator")
    parser.add_argument("--cas", action=argparse.BooleanOptionalAction, default=True,
                        help="conditional models: the classification accuracy score, a "
                             "classifier trained on generated images and tested on real "
                             "held-out ones, beside one trained on real images (10 to 20 s "
                             "on 2 CPU cores for MNIST; default: on)")


def _eval(args: argparse.Namespace) -> int:
    from keras_gan.evaluation.evaluate import EvalError, evaluate, write_report
    from keras_gan.training.translate_export import is_translator_run

    if args.num_samples < 2:
        raise EvalError(f"--num-samples must be >= 2, got {args.num_samples}")
    source = Path(args.source).expanduser()
    out = Path(args.out) if args.out else (
        source / "eval" if source.is_dir() else source.parent / "eval")
    if is_translator_run(source):
        from keras_gan.evaluation.translation import evaluate_translator, write_translation_report

        result = evaluate_translator(source, split=args.split, direction=args.direction,
                                     evaluator=args.evaluator, classifier=args.classifier,
                                     seed=args.seed)
        write_translation_report(result, out)
        print((out / "report.md").read_text().split("\n\n![")[0])
        print(f"\nReport: {out / 'report.md'}; numbers: {out / 'eval.json'}")
        return 0
    result = evaluate(source, num_samples=args.num_samples, seed=args.seed, real=args.real,
                      classifier=args.classifier, evaluator=args.evaluator, cas=args.cas)
    write_report(result, out, run_dir=source if source.is_dir() else None)
    print((out / "report.md").read_text().split("\n\n![")[0])
    print(f"\nReport: {out / 'report.md'}; numbers: {out / 'eval.json'}")
    return 0


def _int_list(text: str) -> list[int]:
    """'10,100' -> [10, 100] (an argparse type: a bad item is a usage error)."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}") from None


def _probe_arguments(parser: argparse.ArgumentParser) -> None:
    # dest "source", as eval's: `args.run` is the command's function.
    parser.add_argument("source", metavar="RUN", help="the run folder of a GAN (its gan.keras)")
    parser.add_argument("--labels-per-class", type=_int_list, action="append", metavar="N",
                        help="labelled examples per class, one column each; repeatable or "
                             "a comma list, capped at the smallest class (default: 10,100,1000)")
    parser.add_argument("--seeds", type=_int_list, default=[0, 1, 2], metavar="S,...",
                        help="draws of the labelled examples, averaged (default: 0,1,2)")
    parser.add_argument("--dataset", metavar="SOURCE",
                        help="labelled data source (default: the run's own)")
    parser.add_argument("--out", metavar="FILE.md",
                        help="the table (and FILE.json beside it) (default: RUN/probe/probe.md)")


def _probe(args: argparse.Namespace) -> int:
    from keras_gan.evaluation.probe import DEFAULT_LABELS_PER_CLASS, probe, write_report

    counts = [n for group in args.labels_per_class or [DEFAULT_LABELS_PER_CLASS] for n in group]
    out = Path(args.out) if args.out else Path(args.source).expanduser() / "probe" / "probe.md"
    if out.suffix != ".md":
        raise UserError(f"--out must name a .md file, got {out}")
    command = " ".join(["keras-gan probe", args.source,
                        "--labels-per-class", ",".join(map(str, counts)),
                        "--seeds", ",".join(map(str, args.seeds)),
                        *(["--dataset", args.dataset] if args.dataset else []),
                        *(["--out", args.out] if args.out else [])])
    result = probe(args.source, labels_per_class=counts, seeds=args.seeds, dataset=args.dataset)
    md, js = write_report(result, out, command)
    print(md.read_text())
    print(f"Table: {md}; numbers: {js}")
    return 0


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    from demo.app import add_arguments  # light: gradio is imported when the page is built

    add_arguments(parser)


def _demo(args: argparse.Namespace) -> int:
    from demo.app import serve  # never TensorFlow: the demo runs on onnxruntime

    return serve(args)


def _figures_arguments(parser: argparse.ArgumentParser) -> None:
    from keras_gan.figures import FIGURES  # light: no TensorFlow

    parser.add_argument("--only", nargs="+", metavar="NAME", choices=list(FIGURES),
                        help=f"figures to make (default: all): {', '.join(FIGURES)}")
    parser.add_argument("--out", default="docs/figures", metavar="DIR",
                        help="folder of the images and figures.json (default: docs/figures)")
    parser.add_argument("--tiny", action="store_true",
                        help="tiny runs (seconds; what the tests run), not the documented ones")
    parser.add_argument("--seed", type=int, default=0, help="seed of every run (default: 0)")
    parser.add_argument("--dataset", metavar="SOURCE",
                        help="image source of the progression figure (default: mnist-sample)")
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow intra- and inter-op threads (default: 1; 0: "
                             "TensorFlow's own)")
    parser.add_argument("--doc", metavar="FILE.md",
                        help="also write this page from figures.json (docs/theory.md)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _figures(args: argparse.Namespace) -> int:
    from keras_gan.figures import make_figures
    from keras_gan.figures.doc import write_doc

    if args.threads < 0:
        raise UserError(f"--threads must be >= 0, got {args.threads}")
    # The command as the results file records it: the options that change them.
    command = " ".join(["keras-gan figures", *(["--only", *args.only] if args.only else []),
                        "--out", args.out, *(["--tiny"] if args.tiny else []),
                        *([f"--seed {args.seed}"] if args.seed else []),
                        *([f"--dataset {args.dataset}"] if args.dataset else []),
                        *([f"--threads {args.threads}"] if args.threads != 1 else [])])
    results = make_figures(args.out, args.only, tiny=args.tiny, seed=args.seed,
                           dataset=args.dataset, threads=args.threads,
                           progress=not args.quiet, command=command)
    print(f"Figures in {args.out}/: " + ", ".join(
        f for r in results["figures"].values() for f in r["files"]))
    if args.doc:
        write_doc(results, args.doc, args.out)
        print(f"Wrote {args.doc}")
    return 0


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    from keras_gan.data.named import DATA_ENV, NAMED

    parser.add_argument("name", choices=list(NAMED), help="the data set")
    parser.add_argument("--from", dest="source", metavar="PATH",
                        help="copy this file (checked first) instead of building the data "
                             "set from its npm packages with the npm client")
    parser.epilog = (f"The data folder is ${DATA_ENV} when set, else datasets/ in Keras's "
                     "cache folder ($KERAS_HOME, default ~/.keras).")


def _data(args: argparse.Namespace) -> int:
    from keras_gan.data.named import obtain

    path = obtain(args.name, args.source)
    print(f"{args.name}: {path} (`--dataset {args.name}` reads it)")
    return 0


def _web_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", metavar="MODEL_DIR",
                        help="an exported model folder (generator.onnx or translator.onnx, "
                             "and model.json)")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="the folder of the page to write")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the page an earlier `keras-gan web` wrote in OUT_DIR")
    parser.add_argument("--ort-web", metavar="PATH",
                        help="an onnxruntime-web .tgz (npm pack) or its extracted folder, "
                             "for offline use (default: the pinned version from the npm "
                             "registry, cached)")
    parser.add_argument("--fp32", action="store_true",
                        help="ship generator.onnx even where generator_fp16.onnx would do")


def _web(args: argparse.Namespace) -> int:
    from export.web import export_page  # never TensorFlow: numpy and onnxruntime

    manifest = export_page(args.model_dir, args.out_dir, overwrite=args.overwrite,
                           ort_web=args.ort_web, fp32=args.fp32)
    print(f"Wrote the page of {manifest['name']} to {args.out_dir}/: {len(manifest['files']) + 1} "
          f"files, {manifest['total_bytes'] / 1e6:.1f} MB ({manifest['onnx']}, ONNX Runtime "
          f"Web {manifest['ort_web']['version']}).\nServe it with `python -m http.server -d "
          f"{args.out_dir}` and open http://127.0.0.1:8000/")
    return 0


COMMANDS = {
    "train": (_train_arguments, _train,
              "train a GAN (default: DCGAN on the embedded MNIST digits)"),
    "eval": (_eval_arguments, _eval,
             "score a generator (digit FD / score / coverage, or 2D mode metrics) and "
             "write a report"),
    "probe": (_probe_arguments, _probe,
              "fit a linear classifier on a GAN's discriminator features with few labels, "
              "beside a random-init D and raw pixels"),
    "export": (_export_arguments, _export,
               "write a trained generator as .keras, SavedModel and ONNX, with a card (and a "
               "semi-supervised run's classifier as classifier.onnx; a translator run's "
               "translator)"),
    "encoder": (_encoder_arguments, _encoder,
                "train an encoder (image -> z) for an exported generator and write "
                "encoder.onnx and projector.onnx beside it"),
    "figures": (_figures_arguments, _figures,
                "make the theory figures (docs/theory.md) from real runs of the library"),
    "data": (_data_arguments, _data,
             "obtain a named data set that is not shipped (emoji64) into the data folder"),
    "demo": (_demo_arguments, _demo,
             "serve the exported generators in a web page (Gradio, ONNX Runtime): "
             "sampling and interpolation"),
    "web": (_web_arguments, _web,
            "write a static web page that runs an exported model in the browser (ONNX "
            "Runtime Web, no server)"),
}
