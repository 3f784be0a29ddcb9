"""`python -m tuning`: the same command as `keras-vae tune`."""

import sys

from keras_vae.cli import main

sys.exit(main(["tune", *sys.argv[1:]]))
