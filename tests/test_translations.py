"""The French, German and Spanish catalogs cover every translatable string (#13)."""

import gettext
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
from django.utils import translation

import docnumbers

PACKAGE = pathlib.Path(docnumbers.__file__).parent
LANGUAGES = ["fr", "de", "es"]


def entries(po_text: str):
    """``(flags, msgid, msgstrs)`` of every entry but the header."""
    for block in po_text.split("\n\n"):
        lines = block.strip().splitlines()
        flags = " ".join(line for line in lines if line.startswith("#,"))
        msgid = "".join(re.findall(r'^(?:msgid|msgid_plural)? ?"(.*)"$', "\n".join(lines), re.M))
        strs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"((?:\n".*")*)', "\n".join(lines), re.M)
        texts = [first + "".join(re.findall(r'"(.*)"', more)) for first, more in strs]
        if texts and msgid:
            yield flags, msgid, texts


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="apt-get install gettext")
@pytest.mark.parametrize("domain", ["django", "djangojs"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(tmp_path, language, domain):
    """makemessages over a copy of the package: nothing untranslated, nothing fuzzy, in
    the Python and template strings (django) and in the scripts' strings (djangojs)."""
    copy = tmp_path / "docnumbers"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [
            *[sys.executable, "-m", "django", "makemessages", "-d", domain],
            *["-l", language, "--no-obsolete"],
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": ""},
    )
    text = (copy / "locale" / language / "LC_MESSAGES" / f"{domain}.po").read_text()
    found = [msgid for flags, msgid, texts in entries(text)]
    untranslated = [msgid for flags, msgid, texts in entries(text) if not all(texts)]
    fuzzy = [msgid for flags, msgid, texts in entries(text) if "fuzzy" in flags]
    assert found and untranslated == [] and fuzzy == []
    # The compiled catalog shipped next to it says the same (compilemessages was run).
    folder = PACKAGE / "locale" / language / "LC_MESSAGES"
    with open(folder / f"{domain}.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = [
        msgid
        for flags, msgid, texts in entries((folder / f"{domain}.po").read_text())
        if len(texts) == 1 and compiled.gettext(msgid) != texts[0]
    ]
    assert stale == []


@pytest.mark.parametrize(
    "language, text",
    [
        ("fr", "Pas d'aperçu : corrigez d'abord le format."),
        ("de", "Keine Vorschau: korrigieren Sie zuerst das Format."),
        ("es", "Sin vista previa: corrija primero el formato."),
    ],
)
def test_the_format_page_loads_the_scripts_catalog(admin_client, language, text):
    """The preview's own strings come from docnumbers' JavaScript catalog, which the
    format page loads after the admin's."""
    import json

    from django.urls import reverse

    catalog_url = reverse("admin:docnumbers_numberformat_jsi18n")
    # override: the request's language must not stay active for the next tests.
    with translation.override("en"):
        page = admin_client.get(
            reverse("admin:docnumbers_numberformat_add"), HTTP_ACCEPT_LANGUAGE=language
        ).content.decode()
        script = admin_client.get(catalog_url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert page.index(reverse("admin:jsi18n")) < page.index(catalog_url)
    assert page.index(catalog_url) < page.index("format_preview.js")
    assert json.dumps("No preview: fix the format first.") in script
    assert json.dumps(text) in script


def test_one_word_per_concept():
    """The preview's token table and the errors about tokens use the same word."""
    words = {"fr": "alise", "de": "Platzhalter", "es": "arcador"}
    for language, word in words.items():
        with translation.override(language):
            assert word in translation.gettext("Tokens for the prefix and suffix")
            assert word in translation.gettext("Tokens are upper case: write '{%(token)s}'.")


@pytest.mark.django_db
def test_readonly_labels_take_the_languages_colon(admin_client):
    """French puts a space before a colon: the read-only labels of Set next number get
    Django's own label suffix, like the form's labels."""
    from django.urls import reverse

    from tests.testapp.models import SimpleModel

    SimpleModel.objects.create()
    counter = __import__("docnumbers.models").models.Counter.objects.get()
    url = reverse("admin:docnumbers_counter_set_next_value", args=[counter.pk])
    with translation.override("en"):
        page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<label>Dernier attribué\xa0:</label>" in page
    assert "<label>Minimum autorisé\xa0:</label>" in page
    assert 'for="id_next_value">Prochain numéro\xa0:</label>' in page


@pytest.mark.parametrize(
    "language, text",
    [("fr", "Prochain numéro"), ("de", "Nächste Nummer"), ("es", "Próximo número")],
)
def test_the_catalogs_are_loaded(language, text):
    with translation.override(language):
        assert translation.gettext("Next number") == text


@pytest.mark.django_db
def test_a_format_error_and_the_token_table_come_out_in_french():
    """Accountants read format errors in the NumberFormat admin form, in their language."""
    from django.core.exceptions import ValidationError

    from docnumbers.formatting import token_table
    from docnumbers.models import NumberFormat

    fmt = NumberFormat(code="invoice", prefix="INV-{yyyy}-", padding=4, reset="yearly")
    with translation.override("fr"), pytest.raises(ValidationError) as info:
        fmt.full_clean()
    message = " ".join(info.value.message_dict["prefix"])
    assert message.startswith("Balise inconnue « {yyyy} ». Les balises s'écrivent en majuscules")
    assert "Balises connues : {YYYY}, {YY}," in message
    with translation.override("fr"):
        assert [str(text) for _, text in token_table()][:2] == [
            "année, quatre chiffres (2026)",
            "année, deux chiffres (26)",
        ]


@pytest.mark.django_db
def test_the_audit_prose_comes_out_in_french_and_its_columns_stay_english():
    """Auditors read the totals in their language; the column headers are machine-readable."""
    import io

    from django.core.management import call_command

    from tests.testapp.models import SimpleModel

    SimpleModel.objects.create()
    SimpleModel.objects.create()
    out = io.StringIO()
    with translation.override("fr"):
        call_command("docnumbers", "audit", "testapp.SimpleModel", "--no-progress", stdout=out)
    text = out.getvalue()
    assert text.startswith("SEQUENCE")
    assert "1 séquence(s), 2 numéro(s) enregistré(s), 0 manquant(s) non justifié(s)" in text
