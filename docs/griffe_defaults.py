"""A griffe extension: signatures in the API reference show the values of
`keras_vae.defaults`, where the code names them (`beta=defaults.BETA` is
rendered `beta=1.0`), so that every default is written once and read as a
number."""

import griffe

from keras_vae import defaults


class ShowDefaults(griffe.Extension):
    def on_function(self, *, func, **kwargs):
        for parameter in func.parameters:
            text = str(parameter.default)
            if text.startswith("defaults."):
                parameter.default = repr(getattr(defaults, text.split(".", 1)[1]))
