"""`keras-vae export`: a run's model as a TensorFlow SavedModel or ONNX files,
for serving without Python's keras_vae."""

import os

from keras_vae.cli import options

# The graphs are TensorFlow's whichever backend trained the run (model.keras
# moves between backends): `main` starts this command on TensorFlow.
BACKEND = "tensorflow"
FORMATS = ("saved_model", "onnx")


def add_parser(commands):
    parser = commands.add_parser(
        "export",
        help="export a run's model for serving (SavedModel, ONNX)",
        description="Write a run's encode, decode (and sample) endpoints, with the "
        "run's preprocessing inside: they take and give pixels in [0, 1]. "
        "saved_model: one folder whose tf.saved_model.load(DIR) object has encode, "
        "decode and sample. onnx: DIR/encode.onnx and DIR/decode.onnx (pip install "
        '"keras-vae[onnx]"). A conditional run\'s endpoints take the labels as a '
        "second input. Built by TensorFlow whichever backend trained the run.",
    )
    options.run_dir(parser)
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="saved_model",
        help="saved_model (default) or onnx",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="the folder to write (default: RUN_DIR/saved_model or RUN_DIR/onnx); "
        "written beside its place and moved there when complete",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --out if it exists"
    )
    parser.set_defaults(backend=None, verbose=False)
    return parser


def run(arguments):
    from keras_vae import export
    from keras_vae.experiments import inference

    out = arguments.out or os.path.join(arguments.run_dir, arguments.format)
    if arguments.format == "onnx":
        try:
            export.check_onnx()
        except ImportError as error:
            raise ValueError(str(error)) from None
    export.check_destination(out, arguments.overwrite)
    run = inference.load_run(arguments.run_dir)
    description = export.export(run.model, out, arguments.format, arguments.overwrite)
    kind = {"saved_model": "SavedModel", "onnx": "ONNX"}[arguments.format]
    print(f"{kind} -> {out}")
    for name, endpoint in description["endpoints"].items():
        inputs = ", ".join(
            f"{key} {_shape(shape)}" for key, shape in endpoint["inputs"].items()
        )
        outputs = ", ".join(
            f"{key} {_shape(shape)}" for key, shape in endpoint["outputs"].items()
        )
        where = f"{name}.onnx" if arguments.format == "onnx" else name
        print(f"  {where:<12} ({inputs}) -> ({outputs})")
    if arguments.format == "onnx":
        print("  sample: draw z from N(0, I) and call decode.onnx")


def _shape(shape):
    return (
        "(" + ", ".join("batch" if size is None else str(size) for size in shape) + ")"
    )
