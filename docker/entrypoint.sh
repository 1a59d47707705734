#!/bin/sh
# Every SAFER container starts here: wait for PostgreSQL and Redis (SAFER_STARTUP_WAIT seconds),
# or stop with one line and status 2, then run the container's command.
set -eu
python /app/manage.py preflight
exec "$@"
