"""keras_gan/training/distribute.py: strategies, the chief, and distributed steps.

The distributed runs happen in subprocesses: two logical CPUs must be set up
before TensorFlow initialises (tests/mirrored_check.py), and each worker of a
multi-worker run is a process of its own. Every subprocess has a timeout, so
that a hung collective fails the test instead of blocking CI.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from keras_gan.cli import main
from keras_gan.config import ConfigError, TrainConfig
from keras_gan.training.distribute import (
    DistributeError,
    ReplicaSeedGenerator,
    check_global_batch,
    check_jit_compile,
    chief_task,
    is_chief,
    make_strategy,
    parse_tf_config,
)
from keras_gan.training.trainer import train

ROOT = Path(__file__).resolve().parents[1]
# Seconds per subprocess: one takes 10 to 40 on 2 idle cores; two launches
# of the multi-worker test stay inside pytest's 600 s per test.
TIMEOUT = 280
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
       "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def test_strategy_is_an_option_of_the_config_and_the_cli(capsys):
    assert TrainConfig().strategy == "default"
    with pytest.raises(ConfigError, match="strategy must be one of"):
        TrainConfig(strategy="horovod")
    assert main(["train", "--strategy", "mirrored", "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out)["strategy"] == "mirrored"


@pytest.mark.parametrize("text, problem", [
    (None, "needs the TF_CONFIG environment variable"),
    ("{cluster", "not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', "no 'cluster'"),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
     "'host:port'"),
    ('{"cluster": {"worker": ["a:1", "b:1"]}}', "no 'task'"),
    ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "chief", "index": 0}}',
     "not a job of the cluster"),
    ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}}',
     "out of range"),
])
def test_a_bad_tf_config_is_named_before_any_connection(monkeypatch, text, problem):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if text is not None:
        monkeypatch.setenv("TF_CONFIG", text)
    with pytest.raises(DistributeError, match=problem):
        make_strategy("multiworker")
    config = '{"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, ' \
             '"task": {"type": "worker", "index": 0}}'
    assert parse_tf_config(config)["task"]["type"] == "worker"


def test_train_refuses_multiworker_without_tf_config_before_writing(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    cfg = TrainConfig(dataset="ring", strategy="multiworker", out=str(tmp_path / "run"))
    with pytest.raises(DistributeError, match="TF_CONFIG"):
        train(cfg)
    assert not (tmp_path / "run").exists()


def test_the_chief_is_the_chief_task_else_worker_0():
    assert chief_task("chief", 0, cluster_has_chief=True)
    assert not chief_task("worker", 0, cluster_has_chief=True)
    assert chief_task("worker", 0, cluster_has_chief=False)
    assert not chief_task("worker", 1, cluster_has_chief=False)
    assert is_chief()  # one process, no strategy


def test_the_global_batch_must_divide_among_the_replicas():
    check_global_batch(32, 4)
    with pytest.raises(DistributeError, match="use a multiple of 4, e.g. 28 or 32"):
        check_global_batch(30, 4)
    with pytest.raises(DistributeError, match="e.g. 8"):
        check_global_batch(3, 8)
    check_jit_compile(True, 1)
    with pytest.raises(DistributeError, match="--jit-compile"):
        check_jit_compile(True, 2)


def test_one_device_draws_the_plain_seed_generators_stream():
    # So runs and checkpoints from before replica-aware seeding are unchanged.
    ours, plain = ReplicaSeedGenerator(7), keras.random.SeedGenerator(7)
    for _ in range(3):
        assert (keras.random.normal((4, 3), seed=ours).numpy()
                == keras.random.normal((4, 3), seed=plain).numpy()).all()


def test_mirrored_over_two_cpus_takes_the_one_device_step():
    """Same weights, optimizer moments and logged values after 3 steps (GAN
    with EMA and spectral norm, WGAN-GP, unrolled), up to float32 reduction
    order; a wrong scale or a missing all-reduce gives differences of O(1)
    (checked by hand: 3.0 without `_replica_scale`, 1.0 without the unrolled
    all-reduce). The noise is injected (see mirrored_check.py)."""
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "mirrored_check.py")],
                          capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT, env=ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    for variant in ("gan", "wgan-gp", "unrolled"):
        result = report[variant]
        assert result["moved"] > 1e-3, variant  # the steps changed the weights
        assert result["weights_rel"] < 1e-4, (variant, result)
        assert result["logs_rel"] < 1e-5, (variant, result["logs"])  # unscaled, reduced
    assert report["replicas_differ"]  # each replica draws its own latents
    assert report["single_is_plain_stream"]
    # mixed_float16: an overflow on either replica skips the step everywhere.
    assert report["overflow_skipped"] == [True, True]
    # train() with the default strategy inside the caller's scope.
    assert report["train_replicas"] == 2 and report["train_step"] == 2
    assert {"checkpoints", "config.json", "metrics.csv", "gan.keras"} <= set(
        report["train_files"])
    # Mixed precision under the strategy: a conditional image model and
    # PacGAN train over both replicas, finite, in the policy's dtypes, and
    # loss-scaled under float16 only.
    for key, run in report["precision"].items():
        precision, _ = key.split("/")
        half = "float16" if precision == "mixed_float16" else "bfloat16"
        assert run["replicas"] == 2 and run["step"] == 2, (key, run)
        assert run["finite"] and run["moved"] > 1e-4, (key, run)
        assert run["compute_dtypes"] == sorted({half, "float32"}), (key, run)
        assert run["loss_scaled"] == (precision == "mixed_float16"), (key, run)
    assert sorted(report["precision"]) == ["mixed_bfloat16/cgan", "mixed_bfloat16/pacgan",
                                           "mixed_float16/cgan", "mixed_float16/pacgan"]


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _run_workers(out, *flags):
    """Both workers of a 2-worker cluster on this machine, through the CLI."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    argv = [sys.executable, "-m", "keras_gan", "train", "--strategy", "multiworker",
            "--dataset", "ring", "--width", "8", "--latent-dim", "4", "--batch-size", "16",
            "--steps-per-epoch", "4", "--checkpoint-every", "2", "--num-samples", "8",
            "--verbose", "0", "--no-tensorboard", "--out", str(out), *flags]
    # Output to files, not pipes: a worker blocked on a full pipe that nobody
    # reads stalls the other in its next collective.
    logs = [out.parent / f"worker{index}.log" for index in range(2)]
    procs = []
    for index, log in enumerate(logs):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        with log.open("w") as f:
            procs.append(subprocess.Popen(argv, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                                          env={**ENV, "TF_CONFIG": tf_config}))
    timed_out = False
    try:
        for p in procs:
            p.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        for p in procs:  # a hung or failed worker leaves the other waiting
            if p.poll() is None:
                p.kill()
                p.wait()
    for index, p in enumerate(procs):
        assert p.returncode == 0 and not timed_out, (
            f"worker {index} {'timed out' if timed_out else 'failed'}:\n"
            f"{logs[index].read_text()[-2000:]}")


def test_multiworker_trains_writes_from_the_chief_only_and_resumes(tmp_path):
    run = tmp_path / "run"
    _run_workers(run, "--epochs", "1")
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert state["step"] == 4
    # One writer: one metrics row per epoch, one weights file per checkpoint
    # (steps 2 and 4, both kept: --keep-checkpoints 2), one grid.
    rows = (run / "metrics.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("1,4,")
    assert sorted(p.name for p in (run / "checkpoints").glob("*.weights.h5")) == [
        "ckpt-000000002.weights.h5", "ckpt-000000004.weights.h5"]
    assert [p.name for p in (run / "samples").iterdir()] == ["epoch_001.png"]
    assert (run / "generator.keras").exists()
    assert TrainConfig.from_json(run / "config.json").strategy == "multiworker"
    # Only the chief (worker 0) reports a run folder it wrote.
    logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(2)]
    assert "Results in" in logs[0] and "Results in" not in logs[1]
    assert "Worker done at step 4; the chief wrote" in logs[1]

    _run_workers(run, "--epochs", "2", "--resume")
    assert json.loads((run / "checkpoints" / "state.json").read_text())["step"] == 8
    steps = [r.split(",")[1] for r in (run / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == ["4", "8"]  # went on from the saved step
