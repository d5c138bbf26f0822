"""Protocol-faithful emulators of the services the channels talk to."""
