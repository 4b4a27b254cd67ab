"""The emulator's Web API: ``/api/<method>``. Method modules register with ``registry.method``."""
