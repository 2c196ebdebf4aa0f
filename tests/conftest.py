import pytest
from django.db import connection


@pytest.fixture
def vendor():
    return connection.vendor
