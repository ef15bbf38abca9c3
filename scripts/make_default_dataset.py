"""Build lava_ssnnbp/data/default_mnist_subset.npz: a class-balanced MNIST subset shipped with the package.

600 images per class from MNIST train (6000) and 100 per class from MNIST test (1000), chosen at
random with a fixed seed, stored as uint8 28x28 images and uint8 labels (np.savez_compressed).

    python scripts/make_default_dataset.py [--data-dir /work/shared/data] [--seed 0] [--out PATH]
"""
import argparse
from pathlib import Path

import numpy as np

from lava_ssnnbp.data import load_dataset

PER_CLASS = {"train": 600, "test": 100}
OUT = Path(__file__).resolve().parents[1] / "lava_ssnnbp" / "data" / "default_mnist_subset.npz"


def balanced(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of exactly per_class random samples of each class."""
    idx = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(idx))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="/work/shared/data", help="root holding mnist/ (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    arrays = {}
    for split, n in PER_CLASS.items():
        ds = load_dataset("mnist", split, args.data_dir, verify=True)
        idx = balanced(ds.y, n, rng)
        # x was uint8 / 255 in float32, so rounding x * 255 restores the original bytes exactly.
        arrays[f"x_{split}"] = np.rint(ds.x[idx] * 255).astype(np.uint8).reshape(-1, 28, 28)
        arrays[f"y_{split}"] = ds.y[idx].astype(np.uint8)
    np.savez_compressed(args.out, **arrays)
    sizes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): {sizes}")


if __name__ == "__main__":
    main()
