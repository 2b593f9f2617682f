"""Entry point for `celery -A tasks.worker worker|beat`."""

from webapp import create_app_or_exit

app = create_app_or_exit()
celery = app.extensions["celery"]
