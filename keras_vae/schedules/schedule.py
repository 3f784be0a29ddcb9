class Schedule:
    """Base of the schedules: `__call__(step) -> float` plus a config.

    Subclasses implement `__call__` and `get_config` (their constructor
    arguments); `from_config` and `repr` follow from the config.
    """

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"
