"""D's features as a representation (the DCGAN paper's section 5.1, issue 30).

    python benchmarks/probe_mnist.py --out benchmarks/results/probe.md

Trains the default preset (`keras-gan train`'s `TrainConfig` defaults) on
mnist-sample's 8,000 training digits only, so that its discriminator never
saw the 2,000 held-out digits, even without labels; then `keras-gan probe`
on mnist-sample: a linear classifier on D's features for N labelled digits
per class, scored on the 2,000 held-out digits, beside the same on a
randomly initialised D and on raw pixels. `--ssgan-run DIR` probes a
semi-supervised run's D too (semi_supervised.py --keep).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from report import publish  # noqa: E402  (benchmarks/report.py)
from semi_supervised import tuning_source  # noqa: E402

from keras_gan.evaluation.probe import probe, report_markdown  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", help="an existing run folder to probe instead of training one")
    p.add_argument("--ssgan-run", help="also probe this semi-supervised run's D")
    p.add_argument("--out", help="markdown report (.json beside it)")
    args = p.parse_args(argv)
    command = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    run = args.run
    train_seconds = None
    if not run:
        from keras_gan.models.gans import configure
        from keras_gan.training.trainer import train

        tmp = Path(tempfile.mkdtemp(prefix="probe_"))
        cfg = configure(dict(dataset=tuning_source(tmp), out=str(tmp / "run"), fd_every=0,
                             tensorboard=False, verbose=2))
        t0 = time.time()
        run = str(train(cfg).run_dir)
        train_seconds = round(time.time() - t0, 1)
    texts, data = [], {"command": f"python benchmarks/probe_mnist.py {command}",
                       "train_seconds": train_seconds}
    for name, folder in (("preset", run), ("ssgan", args.ssgan_run)):
        if not folder:
            continue
        result = probe(folder, dataset="mnist-sample")
        data[name] = result
        texts.append(report_markdown(result, data["command"]))
    publish("\n\n".join(texts) + "\n", data, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
