"""Entry point for `celery -A tasks.worker worker|beat`.

Celery looks for an attribute named `app` or `celery`: the Flask app must not be called `app`
here, or Celery would take it for itself.
"""

from webapp import create_app_or_exit

flask_app = create_app_or_exit()
celery = flask_app.extensions["celery"]
