"""Making your own audio classifier: synthesize keyword data with espeak-ng (``synth``), train a
Keras model on the micro_speech features microforge computes bit-exactly (``train``; the optional
``train`` extra), quantize it int8 with microforge, evaluate it and write a model card. See
docs/audio-train.md."""
