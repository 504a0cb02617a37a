"""Flask extensions, created unbound and attached in ``create_app``."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .ratelimits import client_key

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# Limits are counted in memory only (FEEDBACK_RATELIMIT_STORAGE, shared by the workers), on an
# HMAC of the address: nothing about who sent what is written anywhere.
limiter = Limiter(key_func=client_key, default_limits=[])
