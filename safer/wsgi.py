import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safer.settings.production")
application = get_wsgi_application()

from safer.heap import settle_heap  # noqa: E402 (after Django is set up)

settle_heap()
