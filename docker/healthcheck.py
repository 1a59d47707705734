"""The web container's health check: GET /healthz from the gunicorn in this container.

Django answers only host names in ALLOWED_HOSTS, so the request names the first of them.
/healthz is exempt from the HTTPS redirect (safer/settings/production.py).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",")]
    host = next((h for h in hosts if h), "localhost")
    request = urllib.request.Request("http://127.0.0.1:8000/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        sys.stderr.write(f"unhealthy: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
