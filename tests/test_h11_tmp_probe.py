import time
import pytest
from django.core.management import call_command
from tests.fixtures_seed import data_migrations_replay

@pytest.mark.django_db(transaction=True)
def test_probe() -> None:
    t=time.monotonic(); call_command("flush", interactive=False, verbosity=0); print("flush", time.monotonic()-t)
    t=time.monotonic(); data_migrations_replay(); print("replay", time.monotonic()-t)
    t=time.monotonic(); data_migrations_replay() if False else None
