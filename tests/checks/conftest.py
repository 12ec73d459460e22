"""Parametrizes each catalogue's `mistake` and `alternative` tests from its lists."""


def pytest_generate_tests(metafunc):
    cls = metafunc.cls
    if cls is None:
        return
    if "mistake" in metafunc.fixturenames:
        metafunc.parametrize("mistake", cls.mistakes, ids=[f"{m[0]}: {m[1]}" for m in cls.mistakes])
    if "alternative" in metafunc.fixturenames:
        metafunc.parametrize("alternative", cls.alternatives, ids=[f"{a[0]}: {a[1]}" for a in cls.alternatives])
    if "finding" in metafunc.fixturenames:
        metafunc.parametrize("finding", cls.findings, ids=[f"{f.exercise}: {f.what}" for f in cls.findings])
