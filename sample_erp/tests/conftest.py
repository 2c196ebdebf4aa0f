import io

import pytest
from django.core.management import call_command

# The project's one Chromium launcher (tests/browser), for the demo's browser tests.
from tests.browser.conftest import chromium  # noqa: F401


@pytest.fixture
def demo_data(db):
    """The demo's customers and documents."""
    call_command("load_demo_data", stdout=io.StringIO())
