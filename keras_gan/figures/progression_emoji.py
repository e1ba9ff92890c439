"""Figure 6b: the training progression on colour emoji, from a real run of
`presets/emoji-32.yaml` (the colour preset: `clustered`, DCGAN networks,
32 px), scored in the emoji classifier's features. The same code as figure
6 (`progression.make`), other data and settings.
"""

from __future__ import annotations

from keras_gan.figures import progression

NAME = "progression-emoji"
TITLE = "A training progression on colour images"
EMOJI = "emoji64"  # the named data set, as the preset says (keras_gan.data.named)
FULL = dict(dataset=EMOJI, preset="presets/emoji-32.yaml", image_size=32,
            snapshots=(10, 100, 1000, 2000), samples=64, scored=2000)
TINY = dict(dataset=EMOJI, preset="presets/emoji-32.yaml", image_size=32, snapshots=(2, 4),
            samples=16, scored=200)


def make(out_dir, *, tiny: bool = False, seed: int = 0, progress: bool = True,
         **overrides) -> dict:
    settings = {**(TINY if tiny else FULL), **overrides}
    return progression.make(out_dir, tiny=tiny, seed=seed, progress=progress, **settings)
