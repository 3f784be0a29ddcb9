"""Writes patches of scikit-learn's two bundled sample photographs as an image
folder, one class sub-folder per photograph: real colour images, offline.

Usage: python docs/photo_patches.py OUT_DIR [--size 32] [--stride 8]
"""

import argparse
import os

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_images


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--stride", type=int, default=8)
    arguments = parser.parse_args()
    photos = load_sample_images()
    for name, photo in zip(photos.filenames, photos.images, strict=True):
        label = os.path.splitext(os.path.basename(name))[0]
        folder = os.path.join(arguments.out, label)
        os.makedirs(folder, exist_ok=True)
        height, width = photo.shape[:2]
        count = 0
        for top in range(0, height - arguments.size + 1, arguments.stride):
            for left in range(0, width - arguments.size + 1, arguments.stride):
                patch = photo[top : top + arguments.size, left : left + arguments.size]
                Image.fromarray(np.ascontiguousarray(patch)).save(
                    os.path.join(folder, f"{top:03d}-{left:03d}.png")
                )
                count += 1
        print(f"{count} patches of {arguments.size}x{arguments.size} -> {folder}")


if __name__ == "__main__":
    main()
