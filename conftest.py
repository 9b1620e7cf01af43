"""pytest set-up for the whole project: the spec's plugin (the header naming the Keras under test, the
options, markers and warning filters, hypothesis profiles, a fresh Keras session for every test and the
claims report: ``statefulness/pytest_plugin.py``, which ``statefulness spec`` loads too), and pytester."""

pytest_plugins = ["statefulness.pytest_plugin", "pytester"]


def pytest_addoption(parser):
    parser.getgroup("statefulness").addoption(
        "--installed",
        action="store_true",
        help="also build the wheel, install it into a fresh virtual environment and run the installed spec "
        "(tests/test_installed_spec.py; minutes)",
    )
