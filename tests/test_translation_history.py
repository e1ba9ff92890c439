"""keras_gan/models/translation/history.py: CycleGAN's pool of earlier fakes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models.translation.history import FakeHistory


def images(*ids):
    """One 1x1x1 image per id, its value the id: what is returned is readable."""
    return np.array(ids, np.float32).reshape(-1, 1, 1, 1)


def ids(x):
    return [float(v) for v in np.asarray(x).reshape(-1)]


def draws(seed, n, capacity):
    """The draws `query` makes for a batch of n from a fresh generator of `seed`."""
    generator = keras.random.SeedGenerator(seed)
    u = keras.random.uniform((n,), seed=generator)
    return np.asarray(u), np.asarray(keras.random.randint((n,), 0, capacity, seed=generator))


def test_fills_first_then_swaps_with_probability_one_half():
    pool = FakeHistory(3, (1, 1, 1))
    generator = keras.random.SeedGenerator(7)
    assert ids(pool.query(images(1, 2), generator)) == [1, 2]  # filling: the fakes come back
    assert ids(pool.images)[:2] == [1, 2] and int(pool.count) == 2
    # One slot left: the first fake of this batch fills it, the second may swap.
    state = np.asarray(generator.state).copy()
    # The generator's state after the first query is a fresh one's of seed 7
    # after one batch's two draws: replay them to read this batch's draws.
    replay = keras.random.SeedGenerator(7)
    keras.random.uniform((2,), seed=replay)
    keras.random.randint((2,), 0, 3, seed=replay)
    np.testing.assert_array_equal(np.asarray(replay.state), state)
    u = np.asarray(keras.random.uniform((2,), seed=replay))
    slot = int(keras.random.randint((2,), 0, 3, seed=replay)[1])
    out = ids(pool.query(images(3, 4), generator))
    assert int(pool.count) == 3
    if u[1] > 0.5:  # the stored image at `slot` comes back, 4 takes its place
        stored = [1.0, 2.0, 3.0]
        assert out == [3, stored[slot]]
        stored[slot] = 4.0
        assert ids(pool.images) == stored
    else:
        assert out == [3, 4] and ids(pool.images) == [1, 2, 3]


def test_exact_content_against_the_rule():
    capacity, seed = 4, 3
    pool = FakeHistory(capacity, (1, 1, 1))
    first = images(10, 11, 12, 13)
    assert ids(pool.query(first, keras.random.SeedGenerator(seed))) == [10, 11, 12, 13]
    fakes = images(*range(20, 32))
    out = ids(pool.query(fakes, keras.random.SeedGenerator(seed)))
    u, slots = draws(seed, 12, capacity)
    stored, expected = [10.0, 11.0, 12.0, 13.0], []
    for fake, ui, slot in zip(ids(fakes), u, slots, strict=True):
        if ui > 0.5:
            expected.append(stored[slot])
            stored[slot] = fake
        else:
            expected.append(fake)
    assert out == expected and ids(pool.images) == stored
    swaps = int((u > 0.5).sum())
    assert 0 < swaps < 12  # both branches ran in this case
    assert sum(o != f for o, f in zip(out, ids(fakes), strict=True)) == swaps


def test_older_images_come_back_half_the_time():
    pool = FakeHistory(50, (1, 1, 1))
    generator = keras.random.SeedGenerator(0)
    query = tf.function(lambda x: pool.query(x, generator))  # works traced, as in fit
    query(images(*range(50)))
    returned_old = 0
    for step in range(20):
        fakes = images(*range(1000 * (step + 1), 1000 * (step + 1) + 50))
        out = ids(query(fakes))
        returned_old += sum(o != f for o, f in zip(out, ids(fakes), strict=True))
        # what came back or stayed: every fake of the batch is either returned or stored
        kept = set(ids(pool.images))
        assert all(f in kept or f in out for f in ids(fakes))
        assert len(kept) == 50
    # 1,000 fair coin flips: 500 +- 3 standard deviations (15.8)
    assert 450 < returned_old < 550, returned_old


def test_same_seed_same_history_and_zero_capacity():
    a, b = FakeHistory(2, (1, 1, 1)), FakeHistory(2, (1, 1, 1))
    x = images(*range(8))
    keras.utils.set_random_seed(1)
    out_a = ids(a.query(x, keras.random.SeedGenerator(5)))
    keras.utils.set_random_seed(2)  # the global seed plays no part
    out_b = ids(b.query(x, keras.random.SeedGenerator(5)))
    assert out_a == out_b and ids(a.images) == ids(b.images)
    off = FakeHistory(0, (1, 1, 1))
    assert ids(off.query(x, keras.random.SeedGenerator(5))) == ids(x)
    with pytest.raises(ValueError, match="capacity must be >= 0"):
        FakeHistory(-1, (1, 1, 1))


def test_state_is_in_non_trainable_variables_that_save_and_load():
    pool = FakeHistory(3, (2, 2, 1))
    pool.query(np.full((2, 2, 2, 1), 0.5, np.float32), keras.random.SeedGenerator(0))
    assert pool.trainable_weights == []
    assert {v.name for v in pool.non_trainable_weights} == {"images", "count"}
    store = {}
    pool.save_own_variables(store)
    again = FakeHistory(3, (2, 2, 1))
    again.load_own_variables(store)
    assert int(again.count) == 2
    np.testing.assert_array_equal(np.asarray(again.images), np.asarray(pool.images))
