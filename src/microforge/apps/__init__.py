"""Applications built on the public API and the backends: the audio front end and keyword spotter
(``audio``: Python and generated C firmware) and the end-to-end demo (``demo``)."""
