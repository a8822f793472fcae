"""``microforge.audio``: the audio front end and keyword spotter (``microforge.apps.audio``)."""

from microforge.apps.audio import *  # noqa: F403
from microforge.apps.audio import __all__  # noqa: F401
