"""Task functions for the Python RQ side of the benchmark (importable with --path bench)."""


def noop(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}
