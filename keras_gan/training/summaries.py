"""TensorBoard image summaries of the files a run writes (its sample grids).

The summary is the PNG itself, decoded: TensorBoard's Images tab shows
exactly what `samples/epoch_NNN.png` holds (a grid of images, or the scatter
plot / histogram of a 2D / 1D point run), with no second rendering to drift
from it. TensorFlow is imported on first use only.
"""

from __future__ import annotations

from pathlib import Path


class PngSummaries:
    """Writes PNG files as image summaries to one TensorBoard run folder.

    Its own folder (e.g. `logs/samples`), not Keras's `logs/train`:
    TensorBoard reads a folder's event files in name order and does not go
    back to an earlier one, so two writers open on one folder lose data.
    One writer serves the whole `fit` (one event file, not one per epoch);
    each image is flushed, so TensorBoard shows it while training goes on.
    """

    def __init__(self, logdir, tag: str = "samples"):
        self.logdir, self.tag = Path(logdir), tag
        self._writer = None

    def write(self, path, step: int) -> None:
        """Adds the PNG at `path` (grey, RGB or RGBA) as image `tag` at `step`."""
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.logdir))
        image = tf.io.decode_png(tf.io.read_file(str(path)))
        with self._writer.as_default():
            tf.summary.image(self.tag, image[None], step=step,
                             description=Path(path).name)
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
