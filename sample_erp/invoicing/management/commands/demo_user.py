"""Create or reset the demo's admin login and print it in a box marked demo-only."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "demo"
PASSWORD = "demo"


class Command(BaseCommand):
    help = "Create or reset the superuser demo/demo (DEMO ONLY: never on a real server)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args, **options):
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: USERNAME}).first()
        if user is None:
            user = User(**{User.USERNAME_FIELD: USERNAME})
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(PASSWORD)
        user.save()
        lines = [
            "DEMO ONLY - do not use in production",
            "",
            f"Admin:    {options['url']}",
            f"Username: {USERNAME}",
            f"Password: {PASSWORD}",
        ]
        width = max(len(line) for line in lines)
        self.stdout.write("+" + "-" * (width + 2) + "+")
        for line in lines:
            self.stdout.write(f"| {line:<{width}} |")
        self.stdout.write("+" + "-" * (width + 2) + "+")
