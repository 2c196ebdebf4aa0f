"""The public pages: the invoice list and one invoice, with their formatted numbers."""

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from .models import Invoice


def invoice_list(request):
    """The posted invoices, newest date first; ``?q=`` finds a number, a customer or a
    subject. Drafts have no number yet and stay in the admin."""
    invoices = (
        Invoice.objects.filter(status="posted")
        .select_related("customer")
        .annotate(amount=Invoice.total_expression())
        # Meta.ordering does not apply to an aggregate query: name it again.
        .order_by(*Invoice._meta.ordering)
    )
    query = request.GET.get("q", "").strip()
    if query:
        # number_display is a real column: the formatted number is searchable as issued.
        invoices = invoices.filter(
            Q(number_display__icontains=query)
            | Q(customer__name__icontains=query)
            | Q(subject__icontains=query)
        )
    page = Paginator(invoices, 25).get_page(request.GET.get("page"))
    return render(request, "invoicing/invoice_list.html", {"page": page, "query": query})


def invoice_detail(request, pk):
    invoice = get_object_or_404(Invoice.objects.select_related("customer", "series"), pk=pk)
    context = {
        "invoice": invoice,
        "lines": invoice.lines.all(),
        "credit_notes": invoice.credit_notes.all(),
        "orders": invoice.orders.all(),
    }
    return render(request, "invoicing/invoice_detail.html", context)
