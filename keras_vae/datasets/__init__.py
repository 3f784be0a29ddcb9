"""Datasets for the experiments: MNIST, Fashion-MNIST, scikit-learn's digits,
dSprites (drawn by the package, with its factors), or any folder of IDX files,
`.npz` file or folder of image files; preprocessing and tf.data pipelines."""

from keras_vae.datasets.idx import read_idx as read_idx
from keras_vae.datasets.images import ImageFiles as ImageFiles
from keras_vae.datasets.loading import DATASETS as DATASETS
from keras_vae.datasets.loading import DataUnavailableError as DataUnavailableError
from keras_vae.datasets.loading import ImageData as ImageData
from keras_vae.datasets.loading import load as load
from keras_vae.datasets.outliers import OUTLIER_SETS as OUTLIER_SETS
from keras_vae.datasets.outliers import outlier_images as outlier_images
from keras_vae.datasets.packed import PackedImages as PackedImages
from keras_vae.datasets.preprocessing import PREPROCESSINGS as PREPROCESSINGS
from keras_vae.datasets.preprocessing import Preprocessing as Preprocessing
from keras_vae.datasets.preprocessing import skip_epochs as skip_epochs

__all__ = [
    "DATASETS",
    "PREPROCESSINGS",
    "OUTLIER_SETS",
    "DataUnavailableError",
    "ImageData",
    "ImageFiles",
    "PackedImages",
    "Preprocessing",
    "load",
    "outlier_images",
    "read_idx",
    "skip_epochs",
]
