import io

import pytest
from django.core.management import call_command


@pytest.fixture
def demo_data(db):
    """The demo's customers and documents."""
    call_command("load_demo_data", stdout=io.StringIO())
