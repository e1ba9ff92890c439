"""tf2onnx handlers for the TensorFlow gradient ops a projector graph holds.

`export.projector` writes a graph that returns a reconstruction loss *and
its gradient with respect to z*, so that the TensorFlow-free runtime can
refine latents with onnxruntime and numpy alone. TensorFlow's autodiff
emits gradient kernels (ReluGrad, TanhGrad, MaxPoolGrad, ...) that tf2onnx
1.17 has no handler for (it fails with "Tensorflow op [...ReluGrad] is not
supported"); each is a few elementwise ONNX ops, written here.

Every handler needs static shapes where it reshapes, which the projector
guarantees by fixing the batch size; the shape arithmetic of the gradient
(ShapeN, ConcatOffset, BroadcastGradientArgs) then folds into constants
before conversion. Importing this module registers the handlers (tf2onnx's
`tf_op` decorator); it is imported only while a projector is written.

Parity with TensorFlow's own gradient is tested for every architecture in
the registry (tests/test_projector.py). One deliberate difference: where
several inputs of a max-pooling window tie for the maximum, TensorFlow
routes the gradient to the first and this graph to all of them; in the
evaluator's networks a ReLU precedes each pooling, so ties are zeros whose
ReLU gradient is zero either way.
"""

from __future__ import annotations

import numpy as np
from tf2onnx import utils
from tf2onnx.handler import tf_op


def _const(ctx, node, suffix, value):
    return ctx.make_const(utils.make_name(f"{node.name}_{suffix}"), value).output[0]


def _float(ctx, node, value):
    dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.output[0]))
    return _const(ctx, node, "c", np.array(value, dtype))


def _op(ctx, op_type, inputs, **attr):
    return ctx.make_node(op_type, inputs, attr=attr or None).output[0]


def _become(ctx, node, op_type, inputs):
    """Turn the TF node itself into the last ONNX op, keeping its output name."""
    for key in list(node.attr):
        del node.attr[key]
    node.type = op_type
    ctx.replace_inputs(node, inputs)


@tf_op(["ReluGrad", "LeakyReluGrad"])
class ReluGrad:
    """dx = dy * (x > 0 ? 1 : alpha), alpha 0 for ReLU; inputs (dy, x)."""

    @classmethod
    def version_9(cls, ctx, node, **kwargs):
        dy, x = node.input
        alpha = node.get_attr_value("alpha", 0.2) if node.type == "LeakyReluGrad" else 0.0
        slope = _op(ctx, "Where", [_op(ctx, "Greater", [x, _float(ctx, node, 0.0)]),
                                   _float(ctx, node, 1.0), _float(ctx, node, alpha)])
        _become(ctx, node, "Mul", [dy, slope])


@tf_op("TanhGrad")
class TanhGrad:
    """dx = dy * (1 - y^2); inputs (y, dy), y = tanh(x)."""

    @classmethod
    def version_9(cls, ctx, node, **kwargs):
        y, dy = node.input
        one_minus = _op(ctx, "Sub", [_float(ctx, node, 1.0), _op(ctx, "Mul", [y, y])])
        _become(ctx, node, "Mul", [dy, one_minus])


@tf_op("SigmoidGrad")
class SigmoidGrad:
    """dx = dy * y * (1 - y); inputs (y, dy), y = sigmoid(x)."""

    @classmethod
    def version_9(cls, ctx, node, **kwargs):
        y, dy = node.input
        slope = _op(ctx, "Mul", [y, _op(ctx, "Sub", [_float(ctx, node, 1.0), y])])
        _become(ctx, node, "Mul", [dy, slope])


def _constant(ctx, name, what, node):
    producer = ctx.get_node_by_output(name)
    if producer is None or not producer.is_const():
        raise ValueError(f"{node.type} {node.name}: its {what} is not a constant; the "
                         "projector needs a fixed batch size")
    return np.asarray(producer.get_tensor_value(as_list=False))


@tf_op("StridedSliceGrad")
class StridedSliceGrad:
    """Scatter dy back into zeros of the sliced tensor's shape.

    Inputs (shape, begin, end, strides, dy), all but dy constant. Which flat
    positions the slice took is worked out by indexing a numpy index array
    with the same slice (numpy's indexing follows TensorFlow's for every
    mask), then dy is scattered there with ScatterND.
    """

    @classmethod
    def version_11(cls, ctx, node, **kwargs):
        shape, begin, end, strides = (_constant(ctx, node.input[i], what, node) for i, what in
                                      enumerate(("shape", "begin", "end", "strides")))
        bits = {k: node.get_attr_value(k, 0) for k in (
            "begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")}
        index = []
        for i in range(len(begin)):
            def on(mask, i=i):
                return bool(bits[mask] >> i & 1)
            if on("ellipsis_mask"):
                index.append(Ellipsis)
            elif on("new_axis_mask"):
                index.append(np.newaxis)
            elif on("shrink_axis_mask"):
                index.append(int(begin[i]))
            else:
                index.append(slice(None if on("begin_mask") else int(begin[i]),
                                   None if on("end_mask") else int(end[i]), int(strides[i])))
        size = int(np.prod(shape))
        taken = np.arange(size, dtype=np.int64).reshape(shape)[tuple(index)].reshape(-1, 1)
        dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[4]))
        flat_dy = _op(ctx, "Reshape", [node.input[4], _const(ctx, node, "flat", np.array(
            [-1], np.int64))])
        scattered = _op(ctx, "ScatterND", [_const(ctx, node, "zeros", np.zeros(size, dtype)),
                                           _const(ctx, node, "idx", taken), flat_dy])
        _become(ctx, node, "Reshape", [scattered, _const(ctx, node, "shape",
                                                         shape.astype(np.int64))])


def _static_shape(ctx, name, node):
    shape = ctx.get_shape(name)
    if shape is None or any(d is None or d < 0 for d in shape):
        raise ValueError(f"{node.type} {node.name}: shape {shape} is not static; the "
                         "projector needs a fixed batch size")
    return list(shape)


def _repeat(ctx, node, x, factor, small, big):
    """NHWC x of shape `small` -> each pixel a factor x factor block, zero-padded
    at the bottom and right to `big` (pooling with VALID padding drops them)."""
    n, h, w, c = small
    x = _op(ctx, "Reshape", [x, _const(ctx, node, "r6", np.array([n, h, 1, w, 1, c]))])
    x = _op(ctx, "Expand", [x, _const(ctx, node, "e6", np.array(
        [n, h, factor, w, factor, c]))])
    x = _op(ctx, "Reshape", [x, _const(ctx, node, "r4", np.array(
        [n, h * factor, w * factor, c]))])
    extra_h, extra_w = big[1] - h * factor, big[2] - w * factor
    if extra_h or extra_w:
        pads = np.array([0, 0, 0, 0, 0, extra_h, extra_w, 0], np.int64)
        x = _op(ctx, "Pad", [x, _const(ctx, node, "pads", pads)])
    return x


@tf_op("MaxPoolGrad")
class MaxPoolGrad:
    """Non-overlapping NHWC max pooling (window == stride, VALID or evenly
    divisible SAME): dx = repeat(dy) where x equals repeat(max), else 0.

    Inputs (x, max, dy)."""

    @classmethod
    def version_13(cls, ctx, node, **kwargs):
        x, pooled, dy = node.input
        ksize, strides = node.get_attr_value("ksize"), node.get_attr_value("strides")
        fmt = node.get_attr_value("data_format", b"NHWC")
        fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
        if (fmt != "NHWC" or ksize != strides or ksize[0] != 1 or ksize[3] != 1
                or ksize[1] != ksize[2]):
            raise ValueError(f"MaxPoolGrad {node.name}: only square, non-overlapping NHWC "
                             f"pooling is supported, got ksize {ksize} strides {strides}")
        big, small = _static_shape(ctx, x, node), _static_shape(ctx, dy, node)
        factor = ksize[1]
        if big[1] < small[1] * factor or big[2] < small[2] * factor:
            raise ValueError(f"MaxPoolGrad {node.name}: padded pooling is not supported")
        winner = _op(ctx, "Equal", [x, _repeat(ctx, node, pooled, factor, small, big)])
        mask = _op(ctx, "Cast", [winner], to=ctx.get_dtype(dy))
        _become(ctx, node, "Mul", [_repeat(ctx, node, dy, factor, small, big), mask])


@tf_op("ResizeNearestNeighborGrad")
class ResizeNearestNeighborGrad:
    """Integer-factor nearest up-sampling (UpSampling2D): dx = dy summed over
    each factor x factor block. Inputs (dy, size)."""

    @classmethod
    def version_13(cls, ctx, node, **kwargs):
        dy = node.input[0]
        size = _constant(ctx, node.input[1], "size", node)
        n, big_h, big_w, c = _static_shape(ctx, dy, node)
        factor = big_h // int(size[0])
        if big_h != factor * size[0] or big_w != factor * size[1]:
            raise ValueError(f"ResizeNearestNeighborGrad {node.name}: only integer factors "
                             f"are supported, got {big_h}x{big_w} from {size.tolist()}")
        blocks = _op(ctx, "Reshape", [dy, _const(ctx, node, "r6", np.array(
            [n, int(size[0]), factor, int(size[1]), factor, c]))])
        _become(ctx, node, "ReduceSum", [blocks, _const(ctx, node, "axes",
                                                        np.array([2, 4], np.int64))])
        node.set_attr("keepdims", 0)
