from django.urls import path

from . import views

app_name = "reports"

# Fixed paths only: other apps' reports live under reports/ too (payments' payouts/), and
# fall through to their own URLconf.
urlpatterns = [
    path("", views.reports_home, name="home"),
    path("aging/", views.aging, name="aging"),
    path("revenue/", views.revenue, name="revenue"),
    path("payments/", views.payments, name="payments"),
    path("balances/", views.balances, name="balances"),
]
