"""Writes tests/data/golden_k2_max.safetensors: one K=2 `max` training step of a small
dcgan32 (DESIGN §5), computed by PyTorch in float32 on the CPU.

Run wherever PyTorch is:  python3 bench/pytorch/make_golden.py
The dg test tests/test_golden.cpp loads the same inputs and weights, runs dg's step and
compares every logit, loss, gradient and updated weight.

Recorded (prefixes): in.x, in.z; G.init.*, D0.init.*, D1.init.* (state_dict); fake;
D<i>.real_logits, D<i>.fake_logits, D<i>.real_loss, D<i>.fake_loss, D<i>.grad.*,
D<i>.after.* (after its Adam step, running stats included); G.logits<i> (updated D_i on
fake), G.loss, G.selected, G.grad.*, G.after.*.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import dcgan  # noqa: E402
import safetensors_io  # noqa: E402

FORMAT_VERSION = 1
CFG = dict(image_size=32, nz=32, ngf=16, ndf=16, nc=1, batch=8, lr=2e-4, beta1=0.5, beta2=0.999, seed=2026)


def main():
    torch.manual_seed(CFG["seed"])
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(CFG["seed"])
    G = dcgan.generator(CFG["image_size"], CFG["nz"], CFG["ngf"], CFG["nc"])
    Ds = [dcgan.discriminator(CFG["image_size"], CFG["ndf"], CFG["nc"]) for _ in range(2)]
    for m in [G] + Ds:
        dcgan.dcgan_init(m, gen)
    B = CFG["batch"]
    x = torch.rand(B, CFG["nc"], 32, 32, generator=gen) * 2 - 1
    z = torch.randn(B, CFG["nz"], 1, 1, generator=gen)

    out = {"in.x": x, "in.z": z}
    for name, net in [("G", G), ("D0", Ds[0]), ("D1", Ds[1])]:
        for k, v in net.state_dict().items():
            if not k.endswith("num_batches_tracked"):
                out[f"{name}.init.{k}"] = v.clone()

    betas = (CFG["beta1"], CFG["beta2"])
    opt_g = torch.optim.Adam(G.parameters(), lr=CFG["lr"], betas=betas)
    opt_d = [torch.optim.Adam(d.parameters(), lr=CFG["lr"], betas=betas) for d in Ds]

    # 1. fake = G(z)
    fake = G(z)
    out["fake"] = fake.detach().clone()

    # 2. each D: BCE(D(x), 1) + BCE(D(fake), 0), its own Adam step
    for i, (D, opt) in enumerate(zip(Ds, opt_d)):
        D.zero_grad()
        r = D(x).view(-1)
        loss_r = F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
        loss_r.backward()
        f = D(fake.detach()).view(-1)
        loss_f = F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
        loss_f.backward()
        out[f"D{i}.real_logits"], out[f"D{i}.fake_logits"] = r.detach().clone(), f.detach().clone()
        out[f"D{i}.real_loss"], out[f"D{i}.fake_loss"] = loss_r.detach().view(1), loss_f.detach().view(1)
        for k, p in D.named_parameters():
            out[f"D{i}.grad.{k}"] = p.grad.clone()
        opt.step()
        for k, v in D.state_dict().items():
            if not k.endswith("num_batches_tracked"):
                out[f"D{i}.after.{k}"] = v.clone()

    # 3. G against the updated Ds: L_G = max_i mean_b BCE(D_i(fake), 1)
    G.zero_grad()
    losses = []
    for i, D in enumerate(Ds):
        f = D(fake).view(-1)
        out[f"G.logits{i}"] = f.detach().clone()
        losses.append(F.binary_cross_entropy_with_logits(f, torch.ones_like(f)))
    stacked = torch.stack(losses)
    selected = int(torch.argmax(stacked))  # first maximum: ties go to the lowest index
    loss_g = stacked[selected]
    loss_g.backward()
    out["G.loss"] = loss_g.detach().view(1)
    out["G.selected"] = torch.tensor([float(selected)])
    for k, p in G.named_parameters():
        out[f"G.grad.{k}"] = p.grad.clone()
    opt_g.step()
    for k, v in G.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            out[f"G.after.{k}"] = v.clone()
    # The second D's running stats also moved in the G step's forward: record them again.
    for i, D in enumerate(Ds):
        for k, v in D.state_dict().items():
            if "running" in k:
                out[f"D{i}.final.{k}"] = v.clone()

    path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "golden_k2_max.safetensors")
    meta = dict(CFG, format_version=FORMAT_VERSION, torch=torch.__version__, g_loss="max", discriminators=2)
    safetensors_io.save(os.path.normpath(path), out, meta)
    print(f"wrote {os.path.normpath(path)}: {len(out)} tensors, G.loss {loss_g.item():.6f}, selected D{selected}")


if __name__ == "__main__":
    main()
