from django.apps import AppConfig


class PracticaConfig(AppConfig):
    name = "practica"
    verbose_name = "Practices and staff"
