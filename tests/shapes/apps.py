from django.apps import AppConfig


class ShapesConfig(AppConfig):
    name = "tests.shapes"
    label = "shapes"
    default_auto_field = "django.db.models.BigAutoField"
