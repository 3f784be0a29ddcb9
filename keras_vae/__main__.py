from keras_vae.cli import run

run()
