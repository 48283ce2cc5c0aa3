"""Golden values for core's image-CNN layers (nn/conv.ts), from PyTorch (float64).

    python3 packages/core/test/golden/cnn_layers_golden.py > packages/core/test/golden/cnn_layers_golden.json

Every tensor is written in the layout the TypeScript side uses: activations NHWC, Conv2d weights [kh, kw, in, out],
ConvTranspose2d weights [kh, kw, out, in] (TensorFlow's own layouts); all flattened row-major. Inputs, weights and the
cotangent R are fixed closed-form numbers (written out too, so both sides use the same values). For each case the
forward output and the gradients of sum(out * R) with respect to the input and every parameter are recorded.
"""
import json
import math
import warnings
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
warnings.filterwarnings("ignore", message="Using padding=.same. with even kernel")


def values(shape, k, scale=1.0):
    n = math.prod(shape)
    return [scale * (math.sin(0.37 * i + k) + 0.5 * math.cos(1.31 * i + 2 * k)) for i in range(n)]


def nhwc(shape, k, scale=1.0):
    """A tensor given in NHWC, returned as (flat NHWC values, torch NCHW tensor requiring grad)."""
    v = values(shape, k, scale)
    t = torch.tensor(v).reshape(shape).permute(0, 3, 1, 2).contiguous().requires_grad_()
    return v, t


def tf_weight(shape, k, scale):
    """A weight given in TF layout [kh, kw, a, b], returned with its torch layout [b, a, kh, kw]."""
    v = values(shape, k, scale)
    t = torch.tensor(v).reshape(shape).permute(3, 2, 0, 1).contiguous().requires_grad_()
    return v, t


def flat_nhwc(t):
    return t.detach().permute(0, 2, 3, 1).flatten().tolist()


def flat_tf_weight(t):
    return t.detach().permute(2, 3, 1, 0).flatten().tolist()


def backward(out, k):
    shape = [out.shape[0], out.shape[2], out.shape[3], out.shape[1]]
    r_v, r = nhwc(shape, k)
    (out * r.detach()).sum().backward()
    return shape, r_v


def conv_case(name, x_shape, c_out, kernel, stride, padding, dilation, bias):
    kh, kw = kernel
    c_in = x_shape[3]
    x_v, x = nhwc(x_shape, 0.1)
    w_v, w = tf_weight([kh, kw, c_in, c_out], 0.7, 0.3)
    b_v = values([c_out], 1.9, 0.2) if bias else None
    b = torch.tensor(b_v).requires_grad_() if bias else None
    out = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    out_shape, r_v = backward(out, 2.3)
    return {"name": name, "op": "conv2d", "in": c_in, "out": c_out, "kernel": list(kernel), "stride": stride, "padding": padding,
            "dilation": dilation, "bias": bias, "x_shape": x_shape, "x": x_v, "weight": w_v, "bias_value": b_v, "out_shape": out_shape,
            "r": r_v, "y": flat_nhwc(out), "dx": flat_nhwc(x.grad), "dweight": flat_tf_weight(w.grad), "dbias": b.grad.tolist() if bias else None}


def conv_t_case(name, x_shape, c_out, kernel, stride, padding, output_padding, bias):
    c_in = x_shape[3]
    x_v, x = nhwc(x_shape, 0.4)
    # TF's transposed-conv filter [kh, kw, out, in] is torch's [in, out, kh, kw] permuted
    w_v, w = tf_weight([kernel, kernel, c_out, c_in], 1.1, 0.3)
    b_v = values([c_out], 0.5, 0.2) if bias else None
    b = torch.tensor(b_v).requires_grad_() if bias else None
    out = F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding)
    out_shape, r_v = backward(out, 2.9)
    return {"name": name, "op": "conv_transpose2d", "in": c_in, "out": c_out, "kernel": kernel, "stride": stride, "padding": padding,
            "output_padding": output_padding, "bias": bias, "x_shape": x_shape, "x": x_v, "weight": w_v, "bias_value": b_v,
            "out_shape": out_shape, "r": r_v, "y": flat_nhwc(out), "dx": flat_nhwc(x.grad), "dweight": flat_tf_weight(w.grad),
            "dbias": b.grad.tolist() if bias else None}


def bn_case(name, x_shape, momentum, affine, steps):
    """`steps` training forwards (each a new input), then one eval forward; gradients of each of sum(y * R)."""
    c = x_shape[3]
    bn = torch.nn.BatchNorm2d(c, eps=1e-5, momentum=momentum, affine=affine)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor(values([c], 0.2, 0.5)))
        bn.running_var.copy_(torch.tensor([1.0 + 0.5 * math.sin(i) for i in range(c)]))
        if affine:
            bn.weight.copy_(torch.tensor(values([c], 1.3, 0.6)) + 1.0)
            bn.bias.copy_(torch.tensor(values([c], 0.8, 0.3)))
    init = {"running_mean": bn.running_mean.tolist(), "running_var": bn.running_var.tolist(),
            "weight": bn.weight.tolist() if affine else None, "bias": bn.bias.tolist() if affine else None}
    records = []
    for t, training in enumerate([True] * steps + [False]):
        bn.train(training)
        bn.zero_grad()
        x_v, x = nhwc(x_shape, 0.3 + t, 2.0)
        x_plus = x + 0.7 * (t + 1)  # a non-zero mean per step
        out = bn(x_plus)
        _, r_v = backward(out, 3.1 + t)
        # the input given to the layer is x + 0.7 (t + 1)
        records.append({"training": training, "x": [v + 0.7 * (t + 1) for v in x_v], "r": r_v, "y": flat_nhwc(out), "dx": flat_nhwc(x.grad),
                        "dweight": bn.weight.grad.tolist() if affine else None, "dbias": bn.bias.grad.tolist() if affine else None,
                        "running_mean": bn.running_mean.tolist(), "running_var": bn.running_var.tolist(),
                        "num_batches_tracked": int(bn.num_batches_tracked)})
    return {"name": name, "op": "batch_norm2d", "channels": c, "x_shape": x_shape, "momentum": momentum, "affine": affine, "eps": 1e-5,
            "init": init, "steps": records}


def pool_case(name, op, x_shape, kernel, stride, padding, count_include_pad=True):
    x_v, x = nhwc(x_shape, 0.6)
    if op == "max_pool2d":
        out = F.max_pool2d(x, kernel, stride, padding)
    else:
        out = F.avg_pool2d(x, kernel, stride, padding, count_include_pad=count_include_pad)
    out_shape, r_v = backward(out, 1.7)
    return {"name": name, "op": op, "kernel": kernel, "stride": stride, "padding": padding, "count_include_pad": count_include_pad,
            "x_shape": x_shape, "x": x_v, "out_shape": out_shape, "r": r_v, "y": flat_nhwc(out), "dx": flat_nhwc(x.grad)}


def upsample_case(name, x_shape, size, align_corners):
    x_v, x = nhwc(x_shape, 0.9)
    out = F.interpolate(x, size=size, mode="bilinear", align_corners=align_corners)
    out_shape, r_v = backward(out, 0.2)
    return {"name": name, "op": "upsample_bilinear", "size": size, "align_corners": align_corners, "x_shape": x_shape, "x": x_v,
            "out_shape": out_shape, "r": r_v, "y": flat_nhwc(out), "dx": flat_nhwc(x.grad)}


def leaky_case(name, x_shape, slope):
    x_v, x = nhwc(x_shape, 0.5)
    out = F.leaky_relu(x, slope)
    out_shape, r_v = backward(out, 0.8)
    return {"name": name, "op": "leaky_relu", "slope": slope, "x_shape": x_shape, "x": x_v, "out_shape": out_shape, "r": r_v,
            "y": flat_nhwc(out), "dx": flat_nhwc(x.grad)}


cases = [
    conv_case("conv k3 stride 2 padding 1", [2, 7, 7, 3], 4, (3, 3), 2, 1, 1, True),
    conv_case("conv k3 dilation 2 padding 2", [2, 6, 6, 3], 4, (3, 3), 1, 2, 2, True),
    conv_case("conv k3 dilation 2 stride 2 padding 1, no bias", [1, 9, 8, 2], 3, (3, 3), 2, 1, 2, False),
    conv_case("conv k4 padding same", [2, 5, 6, 3], 2, (4, 4), 1, "same", 1, True),
    conv_case("conv k3 dilation 3 padding same", [1, 8, 7, 2], 2, (3, 3), 1, "same", 3, True),
    conv_case("conv k3x1 padding (1, 0)", [2, 5, 4, 3], 2, (3, 1), 1, (1, 0), 1, True),
    conv_case("conv k1 stride 1 padding 0", [2, 4, 4, 5], 3, (1, 1), 1, 0, 1, True),
    conv_t_case("conv_transpose k4 stride 2 padding 1", [2, 4, 5, 3], 2, 4, 2, 1, 0, True),
    conv_t_case("conv_transpose k3 stride 2 padding 1 output_padding 1", [2, 4, 3, 3], 2, 3, 2, 1, 1, True),
    conv_t_case("conv_transpose k2 stride 2 padding 0, no bias", [1, 3, 4, 2], 3, 2, 2, 0, 0, False),
    conv_t_case("conv_transpose k3 stride 3 padding 0 output_padding 2", [1, 2, 3, 2], 2, 3, 3, 0, 2, True),
    bn_case("batch_norm momentum 0.1", [2, 3, 4, 4], 0.1, True, 2),
    bn_case("batch_norm momentum None (cumulative), no affine", [3, 2, 3, 3], None, False, 2),
    pool_case("max_pool k3 stride 2 padding 1", "max_pool2d", [2, 7, 6, 3], 3, 2, 1),
    pool_case("max_pool k2 stride 2 padding 0", "max_pool2d", [1, 6, 5, 2], 2, 2, 0),
    pool_case("avg_pool k3 stride 2 padding 1", "avg_pool2d", [2, 7, 6, 3], 3, 2, 1),
    pool_case("avg_pool k3 stride 1 padding 1 count_include_pad False", "avg_pool2d", [1, 5, 4, 2], 3, 1, 1, False),
    upsample_case("bilinear up align_corners False", [2, 4, 5, 3], [7, 9], False),
    upsample_case("bilinear up align_corners True", [2, 4, 5, 3], [7, 9], True),
    upsample_case("bilinear down align_corners False", [1, 8, 9, 2], [3, 5], False),
    upsample_case("bilinear down align_corners True", [1, 8, 9, 2], [3, 5], True),
    upsample_case("bilinear to 1x1 align_corners True", [1, 3, 4, 2], [1, 1], True),
    leaky_case("leaky_relu 0.2", [1, 3, 4, 2], 0.2),
]

print(json.dumps({"torch": torch.__version__, "cases": cases}))
