from django.contrib import admin
from django.urls import path

from sample_erp.invoicing import views

urlpatterns = [
    path("", views.invoice_list, name="home"),
    path("invoices/", views.invoice_list, name="invoice-list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice-detail"),
    path("admin/", admin.site.urls),
]
