import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# What keras-vae caches (evaluate's classifiers) stays out of the user's home;
# subprocesses inherit the variable.
os.environ.setdefault(
    "KERAS_VAE_CACHE", tempfile.mkdtemp(prefix="keras-vae-test-cache-")
)
# JAX compiles the same small models again and again across tests and their
# subprocesses: a compilation cache for the session saves a third of the JAX
# tests' time (tests/models on JAX: 120 s -> 84 s from a cold cache) and
# changes no result.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR", tempfile.mkdtemp(prefix="keras-vae-test-jax-")
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
# XLA compiles each new shape of each test. Its LLVM back end at -O0 does that
# in 60 % of the CPU time (the JAX layers group: 142 -> 85 s) and computes the
# same optimized graph: the suite checks what the programs compute, not how
# fast. benchmarks/ measure with XLA's defaults.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
# `pytest -n N` runs N workers: each gets its share of the cores for its
# thread pools (and its subprocesses inherit it). With every pool as wide as
# the machine, the workers' spinning threads fight over the cores: on 2 cores
# and 2 workers, scikit-learn's t-SNE of a run's figures took 10-18 s instead
# of 6 s.
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _workers > 1:
    _threads = str(max(1, (os.cpu_count() or 1) // _workers))
    for _name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ.setdefault(_name, _threads)

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def seeded_keras():
    """Every test starts from a fresh Keras session with fixed seeds.

    Without the full garbage collection that `clear_session` runs by default:
    it takes 0.35-0.5 s with TensorFlow, JAX and PyTorch imported, which was a
    third of the suite's time; Python's own collector still runs.
    """
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")


# The modules of the longest tests (whole minutes in subprocesses) run first:
# `pytest -n 2` then deals them to both workers at the start and ends on short
# tests, instead of one worker finishing a long tail alone. Order within a
# module is kept; what each test checks does not depend on the order.
FIRST = (
    "tests/test_backends.py",
    "tests/test_soak.py",
    "tests/tuning/test_search.py",
    "tests/experiments/test_distribution.py",
    "tests/experiments/test_determinism.py",
)


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return FIRST.index(path) if path in FIRST else len(FIRST)

    items.sort(key=rank)
