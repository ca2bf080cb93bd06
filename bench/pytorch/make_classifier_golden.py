"""Writes tests/data/classifier_golden.safetensors: PyTorch's float32 CPU results for
  lin.*   a linear layer (input of rank 4, flattened) + softmax + cross-entropy, forward
          and backward: lin.x, lin.w, lin.b, lin.labels, lin.logits, lin.probs, lin.loss,
          lin.dlogits, lin.dx, lin.dw, lin.db
  step.*  one training step of a small dg classifier (models/classifier.h: conv k4 s2 p1 +
          BN + LeakyReLU(0.2) down to 4x4, fc1 + LeakyReLU(0.2), fc2) with Adam(0.9, 0.999):
          step.x, step.labels, init.<state>, step.loss, step.correct, grad.<param>,
          after.<state> (parameters and running statistics after the step), and the eval-mode
          outputs after the step, eval.features, eval.logits.
Labels are stored as floats (dg's convention). Biases and BN betas start non-zero so every
term of the backward is exercised.

Run wherever PyTorch is:  python3 bench/pytorch/make_classifier_golden.py
The dg tests (tests/classifier_golden.h) read it; CI never needs PyTorch.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import safetensors_io  # noqa: E402

FORMAT_VERSION = 1
CFG = dict(channels=1, image_size=32, classes=4, width=4, batch=8, lr=2e-3, beta1=0.9, beta2=0.999, seed=2027)


class Classifier(nn.Module):
    """The same network and state_dict names as dg's models/classifier.cpp."""

    def __init__(self, channels, image_size, classes, width):
        super().__init__()
        layers, cin, size, i = [], channels, image_size, 0
        while size > 4:
            cout = width << min(i, 2)
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
            cin, size, i = cout, size // 2, i + 1
        self.main = nn.Sequential(*layers)
        self.fc1 = nn.Linear(cin * 16, 4 * width)
        self.fc2 = nn.Linear(4 * width, classes)

    def forward(self, x):
        features = F.leaky_relu(self.fc1(self.main(x).flatten(1)), 0.2)
        return features, self.fc2(features)


def linear_case(gen):
    x = torch.randn(5, 3, 2, 2, generator=gen).requires_grad_()
    w = (torch.randn(7, 12, generator=gen) * 0.5).requires_grad_()
    b = torch.randn(7, generator=gen).requires_grad_()
    labels = torch.tensor([0, 6, 3, 3, 1])
    logits = F.linear(x.flatten(1), w, b)
    logits.retain_grad()
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    return {"lin.x": x, "lin.w": w, "lin.b": b, "lin.labels": labels.float(), "lin.logits": logits,
            "lin.probs": F.softmax(logits, dim=1), "lin.loss": loss.reshape(1), "lin.dlogits": logits.grad,
            "lin.dx": x.grad, "lin.dw": w.grad, "lin.db": b.grad}


def step_case(gen):
    net = Classifier(CFG["channels"], CFG["image_size"], CFG["classes"], CFG["width"])
    with torch.no_grad():
        for name, t in net.named_parameters():
            if name.endswith("weight") and t.dim() > 1:
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
            elif name.startswith("main"):  # BN gamma / beta
                t.copy_((1.0 if name.endswith("weight") else 0.0) + torch.randn(t.shape, generator=gen) * 0.1)
            else:  # linear biases
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
    out = {}
    for k, v in net.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            out["init." + k] = v.clone()
    B, S = CFG["batch"], CFG["image_size"]
    x = torch.rand(B, CFG["channels"], S, S, generator=gen) * 2 - 1
    labels = torch.randint(0, CFG["classes"], (B,), generator=gen)
    out["step.x"], out["step.labels"] = x, labels.float()

    opt = torch.optim.Adam(net.parameters(), lr=CFG["lr"], betas=(CFG["beta1"], CFG["beta2"]))
    net.train()
    opt.zero_grad()
    _, logits = net(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    out["step.loss"] = loss.detach().reshape(1)
    # argmax ties go to the lowest index in both (torch.argmax returns the first maximum)
    out["step.correct"] = (logits.argmax(1) == labels).sum().float().reshape(1)
    for name, t in net.named_parameters():
        out["grad." + name] = t.grad.clone()
    opt.step()
    for k, v in net.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            out["after." + k] = v.clone()
    net.eval()
    with torch.no_grad():
        features, logits = net(x)
    out["eval.features"], out["eval.logits"] = features, logits
    return out


def main():
    torch.manual_seed(CFG["seed"])
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(CFG["seed"])
    out = linear_case(gen)
    out.update(step_case(gen))
    meta = dict(CFG, format_version=FORMAT_VERSION, torch=torch.__version__)
    path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "classifier_golden.safetensors")
    safetensors_io.save(path, {k: v.detach() for k, v in out.items()}, meta)
    print("wrote", os.path.normpath(path), len(out), "tensors")


if __name__ == "__main__":
    main()
