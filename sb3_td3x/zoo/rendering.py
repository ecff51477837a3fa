"""Headless rendering for ``rl_zoo3.record_video`` of MuJoCo environments on a machine without a display."""

from __future__ import annotations

import ctypes
import os
import sys


def select_headless_rendering() -> str | None:
    """
    On a Linux machine without a display, set ``MUJOCO_GL`` to MuJoCo's offscreen OpenGL backend that can be
    loaded, ``egl`` (libEGL) or else ``osmesa`` (libOSMesa), so that ``rl_zoo3.record_video`` renders MuJoCo
    environments headless. Without it, MuJoCo falls back to GLFW, which needs a display. Nothing is changed when
    ``MUJOCO_GL`` is already set, when a display is available, or once MuJoCo has been imported.

    :return: the backend chosen, or None when nothing was changed
    """
    if (
        not sys.platform.startswith("linux")
        or "MUJOCO_GL" in os.environ
        or os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or "mujoco" in sys.modules
    ):
        return None
    for backend, library in (("egl", "libEGL.so.1"), ("osmesa", "libOSMesa.so.8")):
        # MuJoCo's EGL and OSMesa contexts go through PyOpenGL, which must be set for the same platform
        if os.environ.get("PYOPENGL_PLATFORM", backend) != backend:
            continue
        try:
            ctypes.CDLL(library)
        except OSError:
            continue
        os.environ["MUJOCO_GL"] = backend
        return backend
    return None
