"""Speech for the IVR: streaming recognition (Vosk) and synthesis (espeak-ng), behind interfaces."""
