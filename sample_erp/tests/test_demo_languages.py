"""Issue #22: the demo in French, German or Spanish reads in that language, its own labels
included (models, admin columns, public pages); only the demo data stays English."""

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.test_translations import entries

APP = Path(__file__).resolve().parent.parent / "invoicing"

#: What a French session must read, and the English it must no longer show, per page.
FRENCH = {
    "/": (["Factures", "Numéro", "Client", "N° client", "Objet", "Rechercher"], ["Customer"]),
    "/admin/": (["Facturation (démo docnumbers)", "Avoirs", "Commandes"], ["Invoices"]),
    "/admin/invoicing/invoice/": (["Numéro", "Client", "Par série", "Par émise le"], ["Subject"]),
    "/admin/invoicing/order/": (["Passée le", "Commandes"], ["placed at", "Placed at"]),
    "/admin/invoicing/creditnote/": (["Montant", "Avoirs"], ["Amount", "Credit notes"]),
    "/admin/invoicing/customer/": (["Numéro de compte", "Nom"], ["Account number"]),
}


@pytest.mark.parametrize("url", list(FRENCH))
def test_a_french_session_reads_french(admin_client, demo_data, url):
    text = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    wanted, unwanted = FRENCH[url]
    text = text.replace("&#x27;", "'")
    assert [w for w in wanted if w.lower() not in text.lower()] == []
    assert [u for u in unwanted if u in text] == []


def test_an_invoice_in_each_language(admin_client, demo_data):
    from sample_erp.invoicing.models import Invoice

    invoice = Invoice.objects.filter(series=None).first()
    url = reverse("invoice-detail", args=[invoice.pk])
    words = {"fr": "Série par défaut", "de": "Standardserie", "es": "Serie predeterminada"}
    for language, default in words.items():
        text = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert default in text and f'<html lang="{language}">' in text
    page = admin_client.get(
        reverse("admin:invoicing_invoice_change", args=[invoice.pk]), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Rechnungspositionen" in page and "Invoice lines" not in page


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="apt-get install gettext")
@pytest.mark.parametrize("language", ["fr", "de", "es"])
def test_the_demo_catalog_is_complete_and_compiled(tmp_path, language):
    copy = tmp_path / "invoicing"
    shutil.copytree(APP, copy, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", language, "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": ""},
    )
    text = (copy / "locale" / language / "LC_MESSAGES" / "django.po").read_text()
    found = list(entries(text))
    assert found and [m for flags, m, texts in found if not all(texts) or "fuzzy" in flags] == []
    folder = APP / "locale" / language / "LC_MESSAGES"
    with open(folder / "django.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    shipped = list(entries((folder / "django.po").read_text()))
    unquote = lambda text: text.replace('\\"', '"')  # noqa: E731
    assert [m for _, m, texts in shipped if compiled.gettext(unquote(m)) != unquote(texts[0])] == []
