"""PyTorch reference timing for the UniAD reconstruction transformer at the paper's shape.

The same architecture and step as `packages/models-uniad` (and the official zhiyuanyou/UniAD code it follows):
C = 272 tokens of a 14x14 map, d = 256, 4 encoder + 4 decoder layers, 8 heads, FFN 1024, dropout 0.1, post-norm,
layer-wise learned queries, 7x7 neighbour mask in all three attentions, feature jitter, MSE, AdamW + clipping at 0.1,
batch 8, 2 threads. Prints one JSON line: {"torch_uniad_train_step_b8_ms": ..., "torch_uniad_infer_b8_ms": ...}.

    python3 packages/models-uniad/reference/uniad_torch_bench.py [--steps 5] [--threads 2]

Used to put `npm run bench`'s uniad keys next to PyTorch measured on the same machine at the same time.
"""
import argparse, json, time
import torch
from torch import nn

H = W = 14
C, D, HEADS, FFN, LAYERS = 272, 256, 8, 1024, 4


def neighbor_mask(size=7):
    idx = torch.arange(H * W)
    r, c = idx // W, idx % W
    near = ((r[:, None] - r[None, :]).abs() <= size // 2) & ((c[:, None] - c[None, :]).abs() <= size // 2)
    return torch.zeros(H * W, H * W).masked_fill(near, float("-inf"))


class EncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(D, HEADS, dropout=0.1)
        self.ffn = nn.Sequential(nn.Linear(D, FFN), nn.ReLU(), nn.Dropout(0.1), nn.Linear(FFN, D))
        self.n1, self.n2, self.d1, self.d2 = nn.LayerNorm(D), nn.LayerNorm(D), nn.Dropout(0.1), nn.Dropout(0.1)

    def forward(self, src, pos, mask):
        q = src + pos
        src = self.n1(src + self.d1(self.attn(q, q, src, attn_mask=mask)[0]))
        return self.n2(src + self.d2(self.ffn(src)))


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Embedding(H * W, D)
        self.attn1 = nn.MultiheadAttention(D, HEADS, dropout=0.1)
        self.attn2 = nn.MultiheadAttention(D, HEADS, dropout=0.1)
        self.ffn = nn.Sequential(nn.Linear(D, FFN), nn.ReLU(), nn.Dropout(0.1), nn.Linear(FFN, D))
        self.n1, self.n2, self.n3 = nn.LayerNorm(D), nn.LayerNorm(D), nn.LayerNorm(D)
        self.d1, self.d2, self.d3 = nn.Dropout(0.1), nn.Dropout(0.1), nn.Dropout(0.1)

    def forward(self, out, memory, pos, mask):
        q = self.query.weight.unsqueeze(1).repeat(1, out.shape[1], 1)
        t = self.n1(q + self.d1(self.attn1(q + pos, memory + pos, memory, attn_mask=mask)[0]))
        t = self.n2(t + self.d2(self.attn2(t + pos, out + pos, out, attn_mask=mask)[0]))
        return self.n3(t + self.d3(self.ffn(t)))


class UniADNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.outp = nn.Linear(C, D), nn.Linear(D, C)
        self.row, self.col = nn.Embedding(H, D // 2), nn.Embedding(W, D // 2)
        self.enc = nn.ModuleList(EncoderLayer() for _ in range(LAYERS))
        self.dec = nn.ModuleList(DecoderLayer() for _ in range(LAYERS))
        self.norm = nn.LayerNorm(D)
        self.register_buffer("mask", neighbor_mask())
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, feat):  # feat [B, C, H, W]
        tokens = feat.flatten(2).permute(2, 0, 1)  # [T, B, C]
        if self.training:  # feature jitter, scale 20, prob 1
            tokens = tokens + torch.randn_like(tokens) * (tokens.norm(dim=2, keepdim=True) / C) * 20
        pos = torch.cat([self.col.weight.unsqueeze(0).repeat(H, 1, 1), self.row.weight.unsqueeze(1).repeat(1, W, 1)], -1)
        pos = pos.flatten(0, 1).unsqueeze(1)
        x = self.inp(tokens)
        for layer in self.enc:
            x = layer(x, pos, self.mask)
        out = x
        for layer in self.dec:
            out = layer(out, x, pos, self.mask)
        rec = self.outp(self.norm(out)).permute(1, 2, 0).reshape(feat.shape)
        return rec, torch.sqrt(((rec - feat) ** 2).sum(1))


def timed(f, n, warmup):
    """median ms of n calls after warmup (the machine is shared: the median is the figure to quote)"""
    for _ in range(warmup):
        f()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        ts.append((time.perf_counter() - t0) * 1000)
    return sorted(ts)[n // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = UniADNet()
    x = torch.randn(8, C, H, W)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-4)

    def step():
        model.train()
        rec, _ = model(x)
        loss = ((rec - x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        loss.item()

    def infer():
        model.eval()
        with torch.no_grad():
            model(x)[1].numpy()

    train_ms = timed(step, a.steps, a.warmup)
    infer_ms = timed(infer, a.steps * 2, a.warmup)
    print(json.dumps({"torch_version": torch.__version__, "torch_threads": a.threads,
                      "torch_uniad_train_step_b8_ms": round(train_ms, 1), "torch_uniad_infer_b8_ms": round(infer_ms, 1)}))


if __name__ == "__main__":
    main()
