#!/usr/bin/env python3
"""Parity fixtures for Argus's Swift TFT, made with pytorch-forecasting's own TemporalFusionTransformer.

    /work/venv/ptf/bin/python tools/make_tft_fixtures.py            # writes Tests/TFTCoreTests/Fixtures/
    /work/venv/ptf/bin/python tools/make_tft_fixtures.py --out DIR  # somewhere else

For each fixture set (`ptf_small` = 2 targets, `ptf_single` = 1 target) it builds a small PTF model with
its constructor, overwrites every parameter with seeded random values, runs one eval-mode forward on a
hand-collated batch with variable encoder lengths, computes the loss exactly as PTF's training step does,
back-propagates, and writes

    <prefix>_weights.safetensors   every parameter (float32), keyed by its PTF state_dict name
    <prefix>_io.safetensors        inputs, outputs, debug activations, gradients, interpret_output results
    <prefix>_config.json           hyper-parameters, variable orders, conventions

Before writing, every output is re-derived by an independent float64 NumPy re-implementation of the
semantics documented in tools/README.md (forward, attention mask, loss, interpret_output); the script
fails if they disagree. See tools/README.md for the conventions a re-implementation must match.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

warnings.filterwarnings("ignore")

with contextlib.redirect_stdout(sys.stderr):
    import pytorch_forecasting
    from pytorch_forecasting import TemporalFusionTransformer
    from pytorch_forecasting.data.encoders import GroupNormalizer, MultiNormalizer
    from pytorch_forecasting.metrics import MultiLoss, QuantileLoss
    from pytorch_forecasting.utils import get_embedding_size
    import safetensors
    from safetensors.numpy import load_file

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "Tests" / "TFTCoreTests" / "Fixtures"
QUANTILES = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98]

# ---------------------------------------------------------------------------------------------------
# Fixture specifications
# ---------------------------------------------------------------------------------------------------

SPECS = {
    "ptf_small": dict(
        seed=20240611,
        targets=["y1", "y2"],
        static_categoricals=["profile"],
        static_reals=["y1_center", "y1_scale", "y2_center", "y2_scale"],
        known_categoricals=["weekend"],
        unknown_categoricals=["status"],
        known_reals=["hour_sin", "hour_cos", "relative_time_idx"],
        unknown_reals=["y1", "y2", "iowait", "load_average"],
        cardinalities={"profile": 5, "weekend": 2, "status": 8},
        hidden_size=8,
        attention_head_size=2,
        hidden_continuous_size=4,
        lstm_layers=1,
        dropout=0.1,
        max_encoder_length=12,
        max_prediction_length=5,
        encoder_lengths=[12, 9, 12, 6],
        # (center, scale) of the raw targets per sample, one row per target
        target_centers=[[42.0, 17.5, 63.0, 8.0], [3.2, 0.8, 5.5, 1.9]],
        target_scales=[[11.0, 4.5, 19.0, 2.5], [0.9, 0.35, 1.7, 0.6]],
    ),
    "ptf_single": dict(
        seed=20240612,
        targets=["y"],
        static_categoricals=["profile"],
        static_reals=["y_center", "y_scale"],
        known_categoricals=[],
        unknown_categoricals=[],
        known_reals=["hour_sin", "hour_cos", "relative_time_idx"],
        unknown_reals=["y", "load_average"],
        cardinalities={"profile": 5},
        hidden_size=8,
        attention_head_size=2,
        hidden_continuous_size=4,
        lstm_layers=1,
        dropout=0.1,
        max_encoder_length=12,
        max_prediction_length=5,
        # Te = max(encoder_lengths) = 10 < max_encoder_length = 12: exercises the NaN left-padding in
        # interpret_output and the "Te is the batch maximum" convention.
        encoder_lengths=[10, 7, 10, 4],
        target_centers=[[37.0, 12.0, 71.0, 5.0]],
        target_scales=[[9.0, 3.0, 14.0, 1.5]],
    ),
}


def variable_lists(spec):
    """Variable lists exactly as TemporalFusionTransformer.from_dataset would derive them."""
    static_cats = list(spec["static_categoricals"])
    static_reals = list(spec["static_reals"])
    kc, uc = list(spec["known_categoricals"]), list(spec["unknown_categoricals"])
    kr, ur = list(spec["known_reals"]), list(spec["unknown_reals"])
    return dict(
        static_categoricals=static_cats,
        static_reals=static_reals,
        time_varying_categoricals_encoder=kc + uc,
        time_varying_categoricals_decoder=kc,
        time_varying_reals_encoder=kr + ur,
        time_varying_reals_decoder=kr,
        # TimeSeriesDataSet.reals / .flat_categoricals order
        x_reals=static_reals + kr + ur,
        x_categoricals=static_cats + kc + uc,
    )


def build_model(spec):
    v = variable_lists(spec)
    n_targets = len(spec["targets"])
    embedding_sizes = {
        name: (n, get_embedding_size(n)) for name, n in spec["cardinalities"].items()
    }
    if n_targets > 1:
        loss = MultiLoss([QuantileLoss() for _ in range(n_targets)])
        output_size = [len(QUANTILES)] * n_targets
        normalizer = MultiNormalizer([GroupNormalizer(groups=["series"]) for _ in range(n_targets)])
    else:
        loss = QuantileLoss()
        output_size = len(QUANTILES)
        normalizer = GroupNormalizer(groups=["series"])
    with contextlib.redirect_stdout(sys.stderr):
        model = TemporalFusionTransformer(
            hidden_size=spec["hidden_size"],
            lstm_layers=spec["lstm_layers"],
            dropout=spec["dropout"],
            output_size=output_size,
            loss=loss,
            attention_head_size=spec["attention_head_size"],
            max_encoder_length=spec["max_encoder_length"],
            hidden_continuous_size=spec["hidden_continuous_size"],
            embedding_sizes=embedding_sizes,
            causal_attention=True,
            output_transformer=normalizer,
            **v,
        )
    return model


def randomize_parameters(model, gen):
    """Non-trivial weights: no block is an identity, no gate is exactly 1."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            if ".norm.weight" in name:  # LayerNorm gains around 1
                val = 1.0 + 0.25 * r
            elif ".norm.bias" in name:
                val = 0.15 * r
            elif name.endswith(".mask"):  # ResampleNorm trainable gate: 2*sigmoid(mask) != 1
                val = 0.8 * r
            elif "input_embeddings" in name:
                val = 0.6 * r
            else:
                val = 0.3 * r
            p.copy_(val.to(p.dtype))


# ---------------------------------------------------------------------------------------------------
# Batch: right-padded exactly like TimeSeriesDataSet._collate_fn
# ---------------------------------------------------------------------------------------------------


def make_batch(spec, rng):
    v = variable_lists(spec)
    enc_lengths = np.array(spec["encoder_lengths"], dtype=np.int64)
    B = len(enc_lengths)
    Td = spec["max_prediction_length"]
    Te = int(enc_lengths.max())
    targets = spec["targets"]
    centers = np.array(spec["target_centers"], dtype=np.float64)  # (n_targets, B)
    scales = np.array(spec["target_scales"], dtype=np.float64)

    x_reals, x_cats = v["x_reals"], v["x_categoricals"]
    enc_cont = np.zeros((B, Te, len(x_reals)), np.float32)
    dec_cont = np.zeros((B, Td, len(x_reals)), np.float32)
    enc_cat = np.zeros((B, Te, len(x_cats)), np.int64)
    dec_cat = np.zeros((B, Td, len(x_cats)), np.int64)
    target = np.zeros((len(targets), B, Td), np.float32)
    encoder_target = np.zeros((len(targets), B, Te), np.float32)

    for b in range(B):
        L = int(enc_lengths[b]) + Td
        t0 = int(rng.integers(0, 24 * 7))
        t = t0 + np.arange(L)
        hour = t % 24
        day = (t // 24) % 7
        series = {}
        series["hour_sin"] = np.sin(2 * np.pi * hour / 24)
        series["hour_cos"] = np.cos(2 * np.pi * hour / 24)
        # TimeSeriesDataSet(add_relative_time_idx=True): arange(-encoder_length, decoder_length) / max_encoder_length
        series["relative_time_idx"] = np.arange(-enc_lengths[b], Td) / spec["max_encoder_length"]
        raw_targets = []
        for k, name in enumerate(targets):
            norm = np.cumsum(rng.normal(0, 0.45, L)) + rng.normal(0, 0.3)
            norm = norm - norm[: enc_lengths[b]].mean()
            raw = centers[k, b] + scales[k, b] * norm
            raw_targets.append(raw)
            # encoder_cont holds the target normalised by its own (center, scale), like PTF's dataset
            series[name] = (raw - centers[k, b]) / scales[k, b]
            # add_target_scales: static reals derived from the scales (any normalised numbers work)
            if f"{name}_center" in x_reals:
                series[f"{name}_center"] = np.full(L, (centers[k, b] - 30.0) / 25.0)
                series[f"{name}_scale"] = np.full(L, math.log(scales[k, b]))
        for name in x_reals:
            if name not in series:  # extra observed metrics
                series[name] = np.convolve(rng.normal(0, 1, L + 2), np.ones(3) / 3, mode="valid")
        cats = {
            "profile": np.full(L, rng.integers(0, spec["cardinalities"].get("profile", 1))),
            "weekend": (day >= 5).astype(np.int64),
        }
        if "status" in x_cats:
            st = rng.integers(0, spec["cardinalities"]["status"], L)
            # some persistence
            for i in range(1, L):
                if rng.random() < 0.6:
                    st[i] = st[i - 1]
            cats["status"] = st
        el = int(enc_lengths[b])
        for j, name in enumerate(x_reals):
            enc_cont[b, :el, j] = series[name][:el]
            dec_cont[b, :, j] = series[name][el:]  # unknown reals hold the true future (PTF does this too)
        for j, name in enumerate(x_cats):
            enc_cat[b, :el, j] = cats[name][:el]
            dec_cat[b, :, j] = cats[name][el:]
        for k in range(len(targets)):
            target[k, b] = raw_targets[k][el:]
            encoder_target[k, b, :el] = raw_targets[k][:el]

    target_scale = np.stack([centers, scales], axis=-1).astype(np.float32)  # (n_targets, B, 2)
    return dict(
        encoder_cont=enc_cont,
        decoder_cont=dec_cont,
        encoder_cat=enc_cat,
        decoder_cat=dec_cat,
        encoder_lengths=enc_lengths,
        decoder_lengths=np.full(B, Td, np.int64),
        target_scale=target_scale,
        target=target,
        encoder_target=encoder_target,
    )


def to_ptf_x(batch, n_targets, dtype=torch.float32):
    x = dict(
        encoder_cont=torch.tensor(batch["encoder_cont"], dtype=dtype),
        decoder_cont=torch.tensor(batch["decoder_cont"], dtype=dtype),
        encoder_cat=torch.tensor(batch["encoder_cat"]),
        decoder_cat=torch.tensor(batch["decoder_cat"]),
        encoder_lengths=torch.tensor(batch["encoder_lengths"]),
        decoder_lengths=torch.tensor(batch["decoder_lengths"]),
    )
    ts = torch.tensor(batch["target_scale"], dtype=dtype)
    x["target_scale"] = [ts[k] for k in range(n_targets)] if n_targets > 1 else ts[0]
    y = torch.tensor(batch["target"], dtype=dtype)
    y = [y[k] for k in range(n_targets)] if n_targets > 1 else y[0]
    return x, (y, None)


# ---------------------------------------------------------------------------------------------------
# Hooks for intermediate activations
# ---------------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self, model):
        self.calls: dict[str, list] = {}
        self.handles = []
        for name, module in model.named_modules():
            if name:
                self.handles.append(module.register_forward_hook(self._hook(name)))

    def _hook(self, name):
        def fn(module, inputs, output):
            self.calls.setdefault(name, []).append(output)

        return fn

    def remove(self):
        for h in self.handles:
            h.remove()


def debug_tensors(model, rec, n_targets):
    """Named intermediate activations (float32). Modules called twice (shared) are split by call order."""
    c = rec.calls
    d = {}
    d["static_embedding"] = c["static_variable_selection"][0][0]
    d["static_variable_selection.flattened_grn"] = c["static_variable_selection.flattened_grn"][0]
    for n in [
        "static_context_variable_selection",
        "static_context_initial_hidden_lstm",
        "static_context_initial_cell_lstm",
        "static_context_enrichment",
    ]:
        d[n] = c[n][0]
    d["embeddings_varying_encoder"] = c["encoder_variable_selection"][0][0]
    d["embeddings_varying_decoder"] = c["decoder_variable_selection"][0][0]
    for vsn in ["encoder_variable_selection", "decoder_variable_selection"]:
        # pre-softmax variable-selection logits
        d[f"{vsn}.flattened_grn"] = c[f"{vsn}.flattened_grn"][0]
        # per-variable transformed inputs (xi_v), in VSN order
        for name in getattr(model, vsn).input_sizes:
            d[f"{vsn}.single_variable_grns.{name}"] = c[f"{vsn}.single_variable_grns.{name}"][0]
    for name in model.static_variable_selection.input_sizes:
        d[f"static_variable_selection.single_variable_grns.{name}"] = c[
            f"static_variable_selection.single_variable_grns.{name}"
        ][0]
    enc_out, (h, cc) = c["lstm_encoder"][0]
    d["encoder_output"] = enc_out
    d["encoder_hidden"] = h
    d["encoder_cell"] = cc
    dec_out, (h2, c2) = c["lstm_decoder"][0]
    d["decoder_output"] = dec_out
    d["decoder_hidden"] = h2
    d["decoder_cell"] = c2
    # post_lstm_gate_decoder IS post_lstm_gate_encoder (same object): call 0 = encoder, call 1 = decoder
    d["post_lstm_gate_encoder"] = c["post_lstm_gate_encoder"][0]
    d["post_lstm_gate_decoder"] = c["post_lstm_gate_encoder"][1]
    d["lstm_output_encoder"] = c["post_lstm_add_norm_encoder"][0]
    d["lstm_output_decoder"] = c["post_lstm_add_norm_encoder"][1]
    d["attn_input"] = c["static_enrichment"][0]
    d["attn_output"] = c["multihead_attn"][0][0]
    d["post_attn_gate_norm"] = c["post_attn_gate_norm"][0]
    d["pos_wise_ff"] = c["pos_wise_ff"][0]
    d["output_before_head"] = c["pre_output_gate_norm"][0]
    if n_targets > 1:
        d["prediction_normalized"] = torch.stack(
            [c[f"output_layer.{k}"][0] for k in range(n_targets)]
        )
    else:
        d["prediction_normalized"] = c["output_layer"][0].unsqueeze(0)
    return {k: v.detach() for k, v in d.items()}


# ---------------------------------------------------------------------------------------------------
# Independent float64 NumPy reference of the semantics documented in tools/README.md
# ---------------------------------------------------------------------------------------------------


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


def np_interp_matrix(n_in, n_out):
    """F.interpolate(mode='linear', align_corners=True) along features as an (n_out, n_in) matrix."""
    R = np.zeros((n_out, n_in))
    if n_in == 1:
        R[:, 0] = 1.0
        return R
    for j in range(n_out):
        pos = j * (n_in - 1) / (n_out - 1)
        i0 = min(int(math.floor(pos)), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        f = pos - i0
        R[j, i0] += 1 - f
        R[j, i1] += f
    return R


class NumpyTFT:
    def __init__(self, P, cfg):
        self.P = P
        self.cfg = cfg
        self.H = cfg["hidden_size"]

    def lin(self, x, name, bias=True):
        y = x @ self.P[f"{name}.weight"].T
        if bias and f"{name}.bias" in self.P:
            y = y + self.P[f"{name}.bias"]
        return y

    def ln(self, x, name, eps=1e-5):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * self.P[f"{name}.weight"] + self.P[f"{name}.bias"]

    def glu(self, x, name):
        y = self.lin(x, f"{name}.fc")
        h = y.shape[-1] // 2
        return y[..., :h] * np_sigmoid(y[..., h:])

    def resample_norm(self, x, name, n_out):
        if x.shape[-1] != n_out:
            x = x @ np_interp_matrix(x.shape[-1], n_out).T
        if f"{name}.mask" in self.P:
            x = x * np_sigmoid(self.P[f"{name}.mask"]) * 2.0
        return self.ln(x, f"{name}.norm")

    def grn(self, x, name, context=None):
        n_out = self.P[f"{name}.gate_norm.add_norm.norm.weight"].shape[0]
        residual = x
        if x.shape[-1] != n_out:
            residual = self.resample_norm(x, f"{name}.resample_norm", n_out)
        h = self.lin(x, f"{name}.fc1")
        if context is not None:
            h = h + context @ self.P[f"{name}.context.weight"].T
        h = np.where(h > 0, h, np.expm1(np.minimum(h, 0)))  # ELU(alpha=1)
        h = self.lin(h, f"{name}.fc2")
        return self.ln(self.glu(h, f"{name}.gate_norm.glu") + residual, f"{name}.gate_norm.add_norm.norm")

    def vsn(self, name, names, inputs, context):
        cats = set(self.cfg["x_categoricals"])
        embs, outs = [], []
        for v in names:
            e = inputs[v]
            if v not in cats:
                e = self.lin(e, f"prescalers.{v}")
                outs.append(self.grn(e, f"{name}.single_variable_grns.{v}"))
            else:
                outs.append(self.resample_norm(e, f"{name}.single_variable_grns.{v}", self.H))
            embs.append(e)
        if len(names) == 1:
            w = np.ones(outs[0].shape[:-1] + (1, 1))
            return outs[0], w, {}
        var_out = np.stack(outs, axis=-1)  # (..., H, V)
        logits = self.grn(np.concatenate(embs, -1), f"{name}.flattened_grn", context)
        w = np_softmax(logits)[..., None, :]  # (..., 1, V)
        return (var_out * w).sum(-1), w, {"logits": logits, "var_out": outs}

    def lstm_run(self, name, x, h0, c0, lengths):
        """Per-sample LSTM over each sample's own valid steps; padded outputs are 0."""
        Wi, Wh = self.P[f"{name}.weight_ih_l0"], self.P[f"{name}.weight_hh_l0"]
        bi, bh = self.P[f"{name}.bias_ih_l0"], self.P[f"{name}.bias_hh_l0"]
        B, T, _ = x.shape
        H = h0.shape[-1]
        out = np.zeros((B, T, H))
        hN, cN = np.zeros_like(h0), np.zeros_like(c0)
        for b in range(B):
            h, c = h0[b].copy(), c0[b].copy()
            for t in range(int(lengths[b])):
                z = Wi @ x[b, t] + bi + Wh @ h + bh
                i, f, g, o = z[:H], z[H : 2 * H], z[2 * H : 3 * H], z[3 * H :]
                c = np_sigmoid(f) * c + np_sigmoid(i) * np.tanh(g)
                h = np_sigmoid(o) * np.tanh(c)
                out[b, t] = h
            hN[b], cN[b] = h, c
        return out, hN, cN

    def attention_mask(self, enc_lengths, Te, Td):
        B = len(enc_lengths)
        mask = np.zeros((B, Td, Te + Td), dtype=bool)
        for b in range(B):
            mask[b, :, enc_lengths[b] :Te] = True  # encoder padding
            for i in range(Td):
                mask[b, i, Te + i :] = True  # causal, self excluded: key j (decoder) allowed iff j < i
        return mask

    def forward(self, inp):
        cfg, P, H = self.cfg, self.P, self.H
        enc_len, dec_len = inp["encoder_lengths"], inp["decoder_lengths"]
        x_cont = np.concatenate([inp["encoder_cont"], inp["decoder_cont"]], 1).astype(np.float64)
        x_cat = np.concatenate([inp["encoder_cat"], inp["decoder_cat"]], 1)
        B, T, _ = x_cont.shape
        Te = int(enc_len.max())
        Td = T - Te
        vec = {}
        for j, n in enumerate(cfg["x_categoricals"]):
            vec[n] = P[f"input_embeddings.embeddings.{n}.weight"][x_cat[..., j]]
        for j, n in enumerate(cfg["x_reals"]):
            vec[n] = x_cont[..., j : j + 1]
        r = {}
        static_names = cfg["model.static_variables"]
        static_in = {n: vec[n][:, 0] for n in static_names}  # first (encoder) time step
        r["static_embedding"], r["static_variables"], _ = self.vsn(
            "static_variable_selection", static_names, static_in, None
        )
        se = r["static_embedding"]
        cs = self.grn(se, "static_context_variable_selection")
        ch = self.grn(se, "static_context_initial_hidden_lstm")
        cc = self.grn(se, "static_context_initial_cell_lstm")
        ce = self.grn(se, "static_context_enrichment")
        r.update(
            static_context_variable_selection=cs,
            static_context_initial_hidden_lstm=ch,
            static_context_initial_cell_lstm=cc,
            static_context_enrichment=ce,
        )
        enc_in = {n: vec[n][:, :Te] for n in cfg["model.encoder_variables"]}
        dec_in = {n: vec[n][:, Te:] for n in cfg["model.decoder_variables"]}
        cs_t = np.repeat(cs[:, None], T, axis=1)
        emb_enc, r["encoder_variables"], _ = self.vsn(
            "encoder_variable_selection", cfg["model.encoder_variables"], enc_in, cs_t[:, :Te]
        )
        emb_dec, r["decoder_variables"], _ = self.vsn(
            "decoder_variable_selection", cfg["model.decoder_variables"], dec_in, cs_t[:, Te:]
        )
        r["embeddings_varying_encoder"], r["embeddings_varying_decoder"] = emb_enc, emb_dec
        enc_out, hN, cN = self.lstm_run("lstm_encoder", emb_enc, ch, cc, enc_len)
        dec_out, _, _ = self.lstm_run("lstm_decoder", emb_dec, hN, cN, dec_len)
        r["encoder_output"], r["decoder_output"] = enc_out, dec_out
        r["encoder_hidden"], r["encoder_cell"] = hN[None], cN[None]
        lo_enc = self.ln(self.glu(enc_out, "post_lstm_gate_encoder") + emb_enc, "post_lstm_add_norm_encoder.norm")
        lo_dec = self.ln(self.glu(dec_out, "post_lstm_gate_encoder") + emb_dec, "post_lstm_add_norm_encoder.norm")
        r["lstm_output_encoder"], r["lstm_output_decoder"] = lo_enc, lo_dec
        lstm_output = np.concatenate([lo_enc, lo_dec], 1)
        attn_input = self.grn(lstm_output, "static_enrichment", np.repeat(ce[:, None], T, axis=1))
        r["attn_input"] = attn_input
        mask = self.attention_mask(enc_len, Te, Td)
        r["attention_mask"] = mask
        nh = cfg["attention_head_size"]
        dk = H // nh
        V = self.lin(attn_input, "multihead_attn.v_layer")
        heads, attns = [], []
        for h in range(nh):
            q = self.lin(attn_input[:, Te:], f"multihead_attn.q_layers.{h}")
            k = self.lin(attn_input, f"multihead_attn.k_layers.{h}")
            s = np.einsum("bid,bjd->bij", q, k) / np.sqrt(dk)
            s = np.where(mask, -1e9, s)
            a = np_softmax(s, axis=2)
            attns.append(a)
            heads.append(np.einsum("bij,bjd->bid", a, V))
        attn = np.stack(attns, axis=2)  # (B, Td, nh, T)
        attn_out = self.lin(np.mean(np.stack(heads, 2), axis=2), "multihead_attn.w_h", bias=False)
        r["attn_output"] = attn_out
        r["encoder_attention"], r["decoder_attention"] = attn[..., :Te], attn[..., Te:]
        x = self.ln(self.glu(attn_out, "post_attn_gate_norm.glu") + attn_input[:, Te:], "post_attn_gate_norm.add_norm.norm")
        r["post_attn_gate_norm"] = x
        x = self.grn(x, "pos_wise_ff")
        r["pos_wise_ff"] = x
        x = self.ln(self.glu(x, "pre_output_gate_norm.glu") + lstm_output[:, Te:], "pre_output_gate_norm.add_norm.norm")
        r["output_before_head"] = x
        nt = cfg["n_targets"]
        heads_out = [self.lin(x, f"output_layer.{k}") for k in range(nt)] if nt > 1 else [self.lin(x, "output_layer")]
        r["prediction_normalized"] = np.stack(heads_out)
        ts = inp["target_scale"].astype(np.float64)  # (nt, B, 2)
        r["prediction"] = np.stack(
            [heads_out[k] * ts[k, :, None, None, 1] + ts[k, :, None, None, 0] for k in range(nt)]
        )
        return r


def np_loss(pred, target, dec_len, quantiles):
    """PTF: sum over targets of [sum_{b, t<len_b, q} 2*max((q-1)e, q*e) / Q] / sum_b len_b, e = y - yhat_q."""
    total = 0.0
    Q = len(quantiles)
    for k in range(pred.shape[0]):
        e = target[k][..., None].astype(np.float64) - pred[k]
        q = np.array(quantiles)
        l = 2 * np.maximum((q - 1) * e, q * e)
        valid = np.arange(e.shape[1])[None, :] < dec_len[:, None]
        total += (l * valid[..., None]).sum() / Q / dec_len.sum()
    return total


def np_interpret(out, max_encoder_length, reduction, horizon=0):
    """interpret_output semantics, see tools/README.md."""
    enc_att, dec_att = out["encoder_attention"].copy(), out["decoder_attention"].copy()
    enc_len, dec_len = out["encoder_lengths"], out["decoder_lengths"]
    B, Td, nh, Te = enc_att.shape
    for b in range(B):
        dec_att[b, dec_len[b] :] = np.nan  # queries beyond the decoder length
        shift = Te - enc_len[b]
        enc_att[b] = enc_att[b][..., (np.arange(Te) - shift) % Te]  # last valid step at the right edge
    if Te < max_encoder_length:
        pad = np.full((B, Td, nh, max_encoder_length - Te), np.nan)
        enc_att = np.concatenate([pad, enc_att], -1)
    att = np.concatenate([enc_att, dec_att], -1)
    with np.errstate(invalid="ignore"):
        att[att < 1e-5] = np.nan
    att = att[:, horizon, :, : max_encoder_length + horizon]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cnt = (~np.isnan(att)).sum(1)
        att = np.nansum(att, 1) / cnt  # NaN-aware mean over heads (0/0 -> NaN)
        if reduction == "none":
            att = att / np.nansum(att, 1, keepdims=True)
        elif reduction == "sum":
            att = np.nansum(att, 0)
        else:
            att = np.nansum(att, 0) / (~np.isnan(att)).sum(0)
    att = np.nan_to_num(att, nan=0.0)
    ev = out["encoder_variables"][:, :, 0, :]
    emask = np.arange(ev.shape[1])[None, :] < enc_len[:, None]
    ev = (ev * emask[..., None]).sum(1) / np.maximum(enc_len, 1)[:, None]
    dv = out["decoder_variables"][:, :, 0, :]
    dmask = np.arange(dv.shape[1])[None, :] < dec_len[:, None]
    dv = (dv * dmask[..., None]).sum(1) / dec_len[:, None]
    sv = out["static_variables"][:, 0, :]
    if reduction != "none":
        sv, ev, dv = sv.sum(0), ev.sum(0), dv.sum(0)
    return dict(attention=att, static_variables=sv, encoder_variables=ev, decoder_variables=dv)


# ---------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------


_ST_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}


def write_safetensors(path, tensors, metadata):
    """Byte-deterministic safetensors writer (sorted keys; the reference writer orders __metadata__ randomly).

    Data order: int64 tensors first, then float32, each group by name, so every tensor starts at a multiple
    of its element size (and of 8 for int64) relative to the 8-aligned data section.
    """
    arrays = {k: np.ascontiguousarray(v.detach().cpu().numpy() if torch.is_tensor(v) else v) for k, v in tensors.items()}
    order = sorted(arrays, key=lambda k: (-arrays[k].dtype.itemsize, k))
    header, offset = {}, 0
    for k in order:
        a = arrays[k]
        header[k] = {"dtype": _ST_DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    header["__metadata__"] = dict(sorted(metadata.items()))
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for k in order:
            f.write(arrays[k].astype(arrays[k].dtype.newbyteorder("<"), copy=False).tobytes())
    back = load_file(str(path))  # round-trip through the reference reader
    assert set(back) == set(arrays) and all(np.array_equal(back[k], arrays[k]) for k in arrays), path


def tensor_aliases(model):
    """Group state_dict names that point at the same tensor; canonical = model.named_parameters() name."""
    canonical = {id(p): n for n, p in model.named_parameters()}
    aliases = {}
    for n, t in model.state_dict(keep_vars=True).items():
        if id(t) not in canonical:
            raise RuntimeError(f"state_dict entry {n} is not a parameter (buffer?) - handle it")
        c = canonical[id(t)]
        if n != c:
            aliases[n] = c
    return aliases


def max_abs(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))) if np.size(a) else 0.0


def run_fixture(prefix, spec, out_dir, check=True):
    torch.manual_seed(spec["seed"])
    gen = torch.Generator().manual_seed(spec["seed"])
    rng = np.random.default_rng(spec["seed"])
    model = build_model(spec)
    randomize_parameters(model, gen)
    n_targets = len(spec["targets"])
    v = variable_lists(spec)
    batch = make_batch(spec, rng)

    model.eval()
    rec = Recorder(model)
    x, y = to_ptf_x(batch, n_targets)
    with torch.enable_grad():
        out = model(x)
        # exactly what BaseModel.step computes (decoder lengths all equal -> y is not packed)
        if isinstance(model.loss, MultiLoss):
            loss = model.loss(
                out["prediction"],
                y,
                encoder_target=[torch.tensor(t) for t in batch["encoder_target"]],
                encoder_lengths=x["encoder_lengths"],
            )
        else:
            loss = model.loss(out["prediction"], y)
        loss.backward()
    rec.remove()
    dbg = debug_tensors(model, rec, n_targets)
    attention_mask = model.get_attention_mask(x["encoder_lengths"], x["decoder_lengths"])

    pred = out["prediction"]
    pred = torch.stack(list(pred)) if n_targets > 1 else pred.unsqueeze(0)
    o = {
        "prediction": pred.detach(),
        "encoder_attention": out["encoder_attention"].detach(),
        "decoder_attention": out["decoder_attention"].detach(),
        "static_variables": out["static_variables"].detach(),
        "encoder_variables": out["encoder_variables"].detach(),
        "decoder_variables": out["decoder_variables"].detach(),
        "loss": loss.detach().reshape(1),
    }
    plain_out = {k: v.detach() if torch.is_tensor(v) else v for k, v in out.items() if torch.is_tensor(v)}
    interp = {r: model.interpret_output(dict(plain_out), reduction=r) for r in ("none", "sum")}

    # ---------- float64 cross-check of PTF itself (tolerance guidance for the Swift side) ----------
    m64 = build_model(spec)
    m64.load_state_dict(model.state_dict())
    m64 = m64.double().eval()
    x64, y64 = to_ptf_x(batch, n_targets, dtype=torch.float64)
    out64 = m64(x64)
    loss64 = m64.loss(out64["prediction"], y64)
    loss64.backward()
    pred64 = out64["prediction"]
    pred64 = torch.stack(list(pred64)) if n_targets > 1 else pred64.unsqueeze(0)
    grads32 = {n: p.grad for n, p in model.named_parameters()}
    grads64 = {n: p.grad for n, p in m64.named_parameters()}
    # multihead_attn.k_layers.*.bias: gradient is mathematically 0 (softmax is shift-invariant per query
    # row), stored values are rounding noise -> excluded from the relative figure
    grad_rel = max(
        float((grads32[n].double() - grads64[n]).abs().max() / grads64[n].abs().max())
        for n in grads32
        if not (n.startswith("multihead_attn.k_layers.") and n.endswith(".bias"))
    )
    f32_vs_f64 = {
        "prediction_max_abs": max_abs(pred.detach(), pred64.detach()),
        "encoder_attention_max_abs": max_abs(o["encoder_attention"], out64["encoder_attention"].detach()),
        "loss_abs": abs(float(loss) - float(loss64)),
        "grad_max_abs_diff_over_tensor_max_abs": grad_rel,
        "grad_max_abs": max(float((grads32[n].double() - grads64[n]).abs().max()) for n in grads32),
    }

    # ---------- independent NumPy reference ----------
    P = {n: p.detach().double().numpy() for n, p in model.state_dict().items()}
    cfg = make_config(prefix, spec, model, v)
    ref = NumpyTFT(P, cfg).forward(batch)
    checks = {}
    for key in ["prediction", "encoder_attention", "decoder_attention", "static_variables", "encoder_variables", "decoder_variables"]:
        checks[key] = max_abs(o[key], ref[key])
    for key in [
        "static_embedding", "static_context_variable_selection", "static_context_initial_hidden_lstm",
        "static_context_initial_cell_lstm", "static_context_enrichment", "embeddings_varying_encoder",
        "embeddings_varying_decoder", "encoder_output", "decoder_output", "encoder_hidden", "encoder_cell",
        "lstm_output_encoder", "lstm_output_decoder", "attn_input", "attn_output", "post_attn_gate_norm",
        "pos_wise_ff", "output_before_head", "prediction_normalized",
    ]:
        checks["debug." + key] = max_abs(dbg[key], ref[key])
    checks["attention_mask"] = float(np.sum(attention_mask.numpy() != ref["attention_mask"]))
    checks["loss"] = abs(float(loss) - np_loss(pred.detach().double().numpy(), batch["target"], batch["decoder_lengths"], QUANTILES))
    np_out = {k: o[k].double().numpy() for k in ["encoder_attention", "decoder_attention", "static_variables", "encoder_variables", "decoder_variables"]}
    np_out["encoder_lengths"], np_out["decoder_lengths"] = batch["encoder_lengths"], batch["decoder_lengths"]
    for r in ("none", "sum"):
        ref_i = np_interpret(np_out, spec["max_encoder_length"], r)
        for k, val in ref_i.items():
            checks[f"interpret_{r}.{k}"] = max_abs(interp[r][k], val)
    # scale-aware tolerance: predictions are in target units
    pred_scale = float(np.abs(ref["prediction"]).max())
    bad = {k: v for k, v in checks.items() if v > (2e-5 * max(1.0, pred_scale) if k in ("prediction", "loss") else 2e-5)}
    print(f"[{prefix}] numpy-reference max abs diffs: " + json.dumps({k: float(f"{v:.3g}") for k, v in checks.items()}), file=sys.stderr)
    if check and bad:
        raise SystemExit(f"[{prefix}] PTF and the NumPy reference disagree: {bad}")

    # margins: fixture must not sit on a kink / threshold
    e_min = min(
        float(np.abs(batch["target"][k][..., None] - pred[k].detach().numpy()).min()) for k in range(n_targets)
    )
    att = np.concatenate([o["encoder_attention"].numpy(), o["decoder_attention"].numpy()], -1)
    valid_att = att[~ref["attention_mask"][:, :, None, :].repeat(att.shape[2], 2)]
    att_min_valid = float(valid_att.min())
    assert e_min > 1e-3, f"a quantile error is too close to the kink: {e_min}"
    assert att_min_valid > 1e-4, f"a valid attention weight is close to interpret_output's 1e-5 cut: {att_min_valid}"

    # ---------- write ----------
    out_dir.mkdir(parents=True, exist_ok=True)
    aliases = tensor_aliases(model)
    weights = {n: p.detach().float().contiguous().clone() for n, p in model.named_parameters()}
    meta_w = {
        "format": "pt",
        "producer": f"tools/make_tft_fixtures.py, pytorch-forecasting {pytorch_forecasting.__version__}, torch {torch.__version__}",
        "aliases": json.dumps(aliases, sort_keys=True),
        "note": "Each tensor is stored once under its model.named_parameters() name. 'aliases' maps every other "
        "state_dict key that refers to the same tensor (shared modules) to the stored name.",
    }
    write_safetensors(out_dir / f"{prefix}_weights.safetensors", weights, meta_w)

    io = {}
    for k in ["encoder_cont", "decoder_cont", "target_scale", "target"]:
        io[k] = torch.tensor(batch[k], dtype=torch.float32)
    for k in ["encoder_cat", "decoder_cat", "encoder_lengths", "decoder_lengths"]:
        io[k] = torch.tensor(batch[k], dtype=torch.int64)
    for k, val in o.items():
        io[k] = val.float()
    for k, val in dbg.items():
        io["debug." + k] = val.float()
    io["debug.attention_mask"] = attention_mask.to(torch.int64)
    for n, p in model.named_parameters():
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        io["grad." + n] = g.detach().float()
    for r in ("none", "sum"):
        for k, val in interp[r].items():
            io[f"interpret_{r}.{k}"] = val.detach().float() if val.is_floating_point() else val.detach().to(torch.int64)
    io = {k: val.contiguous().clone() for k, val in io.items()}
    meta_io = {
        "format": "pt",
        "producer": meta_w["producer"],
        "note": "see tools/README.md; float32 except *_cat, *_lengths, debug.attention_mask, "
        "interpret_*.*_length_histogram (int64)",
    }
    write_safetensors(out_dir / f"{prefix}_io.safetensors", io, meta_io)

    cfg["aliases"] = aliases
    cfg["numpy_reference_max_abs_diff"] = {k: float(f"{v:.3g}") for k, v in checks.items()}
    cfg["float32_vs_float64_ptf"] = {k: float(f"{v:.3g}") for k, v in f32_vs_f64.items()}
    cfg["margins"] = {"min_abs_quantile_error": round(e_min, 6), "min_valid_attention_weight": float(f"{att_min_valid:.4g}")}
    cfg["tensors"] = {k: {"dtype": str(val.dtype).replace("torch.", ""), "shape": list(val.shape)} for k, val in sorted(io.items()) if not k.startswith("grad.")}
    cfg["parameters"] = {n: list(p.shape) for n, p in model.named_parameters()}
    cfg["parameter_count"] = int(sum(p.numel() for p in model.parameters()))
    (out_dir / f"{prefix}_config.json").write_text(json.dumps(cfg, indent=1) + "\n")
    sizes = {f: os.path.getsize(out_dir / f) for f in (f"{prefix}_weights.safetensors", f"{prefix}_io.safetensors", f"{prefix}_config.json")}
    print(f"[{prefix}] loss={float(loss):.6f} params={cfg['parameter_count']} files={sizes}", file=sys.stderr)


def make_config(prefix, spec, model, v):
    n_targets = len(spec["targets"])
    hp = model.hparams
    return {
        "fixture": prefix,
        "generator": "tools/make_tft_fixtures.py",
        "pytorch_forecasting_version": pytorch_forecasting.__version__,
        "torch_version": torch.__version__,
        "safetensors_version": safetensors.__version__,
        "seed": spec["seed"],
        "hidden_size": hp.hidden_size,
        "attention_head_size": hp.attention_head_size,
        "hidden_continuous_size": hp.hidden_continuous_size,
        "lstm_layers": hp.lstm_layers,
        "dropout": hp.dropout,
        "dropout_active_in_fixture": False,
        "output_size": hp.output_size,
        "quantiles": QUANTILES,
        "n_targets": n_targets,
        "target": spec["targets"] if n_targets > 1 else spec["targets"][0],
        "target_names": spec["targets"],
        "causal_attention": hp.causal_attention,
        "mask_bias": hp.mask_bias,
        "share_single_variable_networks": hp.share_single_variable_networks,
        "max_encoder_length": hp.max_encoder_length,
        "max_prediction_length": spec["max_prediction_length"],
        "batch_size": len(spec["encoder_lengths"]),
        "encoder_lengths": spec["encoder_lengths"],
        "Te": int(max(spec["encoder_lengths"])),
        "Td": spec["max_prediction_length"],
        **v,
        "reals": model.reals,
        "embedding_sizes": {k: list(val) for k, val in model.input_embeddings.embedding_sizes.items()},
        "embedding_paddings": list(hp.embedding_paddings),
        "model.static_variables": model.static_variables,
        "model.encoder_variables": model.encoder_variables,
        "model.decoder_variables": model.decoder_variables,
        "vsn_input_sizes": {
            "static_variable_selection": dict(model.static_variable_selection.input_sizes),
            "encoder_variable_selection": dict(model.encoder_variable_selection.input_sizes),
            "decoder_variable_selection": dict(model.decoder_variable_selection.input_sizes),
        },
        "target_normalizer": "GroupNormalizer(transformation=None): prediction = normalized * scale + center, "
        "target_scale[k][b] = (center, scale)",
        "loss": "MultiLoss([QuantileLoss()] * n_targets), weights 1" if n_targets > 1 else "QuantileLoss()",
        "loss_reduction": "loss = sum_k w_k * L_k, w_k = 1; L_k = ( sum_{b, t < decoder_length_b, q} "
        "2*max((q-1)*e, q*e) / Q ) / sum_b decoder_length_b, e = y_raw[k][b,t] - prediction[k][b,t,q] "
        "(prediction de-normalised). Verified against PTF to float32 precision.",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    ap.add_argument("--only", choices=sorted(SPECS), help="generate one fixture set only")
    ap.add_argument("--no-check", action="store_true", help="write even if the NumPy reference disagrees")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for prefix, spec in SPECS.items():
        if args.only and prefix != args.only:
            continue
        run_fixture(prefix, spec, args.out, check=not args.no_check)


if __name__ == "__main__":
    main()
