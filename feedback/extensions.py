"""Flask extensions, created unbound and attached in ``create_app``."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# Limits are held in memory only: nothing about who sent what is written anywhere.
limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", default_limits=[])
