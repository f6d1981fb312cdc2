"""Hypothesis strategies for small random architecture specs of every family (shared by graph/GMN tests)."""
from hypothesis import strategies as st

ACTS = st.sampled_from(["relu", "gelu", "tanh", "silu"])

MLP = st.builds(lambda d, w, a: {"family": "mlp", "depth": d, "width": w, "activation": a},
                st.integers(1, 2), st.integers(2, 6), ACTS)
CNN = st.builds(lambda c, k, p, a, bn: {"family": "cnn", "channels": c, "kernel_size": k, "pooling": p,
                                        "activation": a, "batchnorm": bn},
                st.lists(st.integers(2, 5), min_size=1, max_size=3), st.sampled_from([1, 3, 5]),
                st.sampled_from(["max", "avg", "none"]), ACTS, st.booleans())
RESNET = st.builds(lambda w, b: {"family": "resnet", "widths": w, "blocks_per_stage": b},
                   st.lists(st.integers(2, 5), min_size=1, max_size=2), st.integers(1, 2))
VIT = st.builds(lambda p, hd, h, d, r, pool: {"family": "vit", "patch_size": p, "dim": hd * h, "heads": h, "depth": d,
                                              "mlp_ratio": r, "pool": pool},
                st.sampled_from([8, 16]), st.integers(2, 4), st.integers(1, 2), st.integers(1, 2), st.integers(1, 2),
                st.sampled_from(["cls", "mean"]))
SPECS = {"mlp": MLP, "cnn": CNN, "resnet": RESNET, "vit": VIT}
ANY_SPEC = st.one_of(*SPECS.values())
