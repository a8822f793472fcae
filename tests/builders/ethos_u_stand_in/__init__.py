"""A test stand-in for the Ethos-U driver (C files only; see ethosu_stand_in.c)."""
