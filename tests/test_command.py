"""manage.py docnumbers: bad arguments are one line and exit status 2; progress on stderr."""

import io
import os
import pathlib
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.testapp.models import SimpleModel

ROOT = pathlib.Path(__file__).resolve().parents[1]

EXPLAIN = ["explain", "testapp.SimpleModel.number", "--reason", "x"]

#: Arguments argparse refuses, and the words the one-line error must contain.
BAD_ARGUMENTS = [
    pytest.param([*EXPLAIN, "--number", "1", "--kind", "bogus"], ["--kind", "bogus"], id="kind"),
    pytest.param(["audit", "--format", "bogus"], ["--format", "bogus"], id="format"),
    pytest.param([*EXPLAIN, "--number", "abc"], ["--number", "abc"], id="number"),
    pytest.param([*EXPLAIN, "--number", "1", "--to", "2x"], ["--to", "2x"], id="to"),
]


@pytest.mark.parametrize(("args", "words"), BAD_ARGUMENTS)
def test_bad_argument_from_call_command(args, words):
    with pytest.raises(CommandError) as info:
        call_command("docnumbers", *args, stdout=io.StringIO(), stderr=io.StringIO())
    message = str(info.value)
    assert info.value.returncode == 2
    assert "\n" not in message.strip()
    assert all(word in message for word in words), message


def test_the_error_lists_the_choices():
    with pytest.raises(CommandError) as info:
        call_command("docnumbers", *EXPLAIN, "--number", "1", "--kind", "bogus")
    assert all(kind in str(info.value) for kind in ("voided", "cancelled", "skipped", "other"))
    with pytest.raises(CommandError) as info:
        call_command("docnumbers", "audit", "--format", "xml")
    assert all(name in str(info.value) for name in ("table", "csv", "json"))
    with pytest.raises(CommandError) as info:
        call_command("docnumbers", *EXPLAIN, "--number", "abc")
    assert "whole number" in str(info.value)


@pytest.mark.parametrize(("args", "words"), BAD_ARGUMENTS)
def test_bad_argument_from_the_command_line(args, words, tmp_path):
    # argparse refuses the arguments before any database is opened; a SQLite file of
    # its own keeps the process away from the shared servers all the same.
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "docnumbers", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("manage.py docnumbers ")
    assert all(word in lines[0] for word in words), lines[0]


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.django_db(transaction=True)
def test_progress_bar_on_a_terminal_is_plain_text_on_stderr():
    for _ in range(3):
        SimpleModel.objects.create()
    out, err = io.StringIO(), Terminal()
    # force_color: the command's stderr would style what it writes as an error.
    call_command(
        "docnumbers", "audit", "testapp.SimpleModel", stdout=out, stderr=err, force_color=True
    )
    text = err.getvalue()
    assert "\raudit [" in text and "2/2" in text
    assert "\x1b[" not in text
    # The bar is wiped before the table is written, and no line is left behind.
    assert text.endswith("\r") and "\n" not in text
    assert out.getvalue().startswith("SEQUENCE")
