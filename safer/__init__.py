"""SAFER: the project package and the core every app builds on."""

from safer.celery import app as celery_app

__all__ = ("celery_app",)
