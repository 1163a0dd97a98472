"""Render a turntable series of a mug: the project's own real-life-style rotation frames.

No multi-view data set ships under a redistributable licence, so the app's default "captured"
intervention is rendered here: a ceramic mug with a handle and a printed band, sphere-traced with
numpy, turning 360 degrees about its vertical axis. Frames are deterministic, so the assets in
``assets/turntable/`` can be regenerated bit for bit.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# Mug geometry in world units: outer radius, wall thickness, height; handle torus radii.
_RADIUS, _WALL, _HEIGHT = 0.55, 0.06, 1.2
_HANDLE_MAJOR, _HANDLE_MINOR = 0.32, 0.075


def _rotate_y(points: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    return np.stack([c * x + s * z, y, -s * x + c * z], axis=-1)


def _mug_sdf(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance to the mug (object space, y up, bottom at y=0) and a material id per point."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    radial = np.hypot(x, z)
    half = _HEIGHT / 2
    # Outer cylinder minus the inner cavity (open at the top, closed base of thickness _WALL).
    d_outer = np.maximum(radial - _RADIUS, np.abs(y - half) - half)
    d_inner = np.maximum(radial - (_RADIUS - _WALL), np.abs(y - (half + _WALL)) - half)
    body = np.maximum(d_outer, -d_inner)
    # Handle: a torus in the x-y plane beside the mug, cut where it enters the body.
    hx, hy = x - (_RADIUS + 0.05), y - half
    ring = np.hypot(np.hypot(hx, hy) - _HANDLE_MAJOR, z) - _HANDLE_MINOR
    handle = np.maximum(ring, -(radial - _RADIUS + 0.02))
    distance = np.minimum(body, handle)
    material = np.where(handle < body, 1, 0)
    return distance, material


def _normals(p: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    offsets = np.eye(3) * eps
    grads = [(_mug_sdf(p + o)[0] - _mug_sdf(p - o)[0]) for o in offsets]
    n = np.stack(grads, axis=-1)
    return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-9)


def _albedo(p: np.ndarray, material: np.ndarray) -> np.ndarray:
    """Base colour: a cream glaze, a red handle and a printed blue/orange band with a star-like logo."""
    colour = np.empty(p.shape, dtype=np.float64)
    colour[:] = (0.93, 0.90, 0.82)
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    angle = np.arctan2(z, x)  # 0 at the handle side
    radial = np.hypot(x, z)
    on_wall = (material == 0) & (radial > _RADIUS - 0.01)
    band = on_wall & (np.abs(y - 0.62) < 0.18)
    colour[band] = (0.12, 0.28, 0.70)
    # A logo opposite the handle, so rotation changes what the camera sees.
    logo_centre = np.pi
    dtheta = np.angle(np.exp(1j * (angle - logo_centre)))
    logo = band & (np.hypot(dtheta * _RADIUS, y - 0.62) < 0.13)
    colour[logo] = (0.98, 0.62, 0.10)
    rim = on_wall & (y > _HEIGHT - 0.08)
    colour[rim] = (0.55, 0.20, 0.12)
    colour[material == 1] = (0.70, 0.12, 0.10)
    return colour


def render_mug(angle_deg: float, size: int = 160, elevation_deg: float = 22.0) -> Image.Image:
    """Render the mug turned by ``angle_deg`` about its vertical axis, as an RGB image.

    Parameters
    ----------
    angle_deg : float
        Turntable angle; 0 shows the handle on the right.
    size : int
        Width and height in pixels, at least 32.
    elevation_deg : float
        Camera elevation above the table.

    Examples
    --------
    >>> render_mug(90, size=64).size
    (64, 64)
    """
    if size < 32:
        raise ValueError(f"`size` must be at least 32 px, got {size}")
    # 1. Camera rays (orthographic-ish pinhole looking at the mug's centre).
    elevation = np.deg2rad(elevation_deg)
    eye = np.array([0.0, 0.6 + 3.2 * np.sin(elevation), 3.2 * np.cos(elevation)])
    target = np.array([0.1, 0.55, 0.0])
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    u = (np.arange(size) + 0.5) / size * 2 - 1
    uu, vv = np.meshgrid(u, -u)
    directions = forward + 0.36 * (uu[..., None] * right + vv[..., None] * up)
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    # 2. Sphere tracing in object space (the mug turns, the camera and light stay).
    turn = np.deg2rad(angle_deg)
    origin = _rotate_y(np.broadcast_to(eye, directions.shape), -turn)
    direction = _rotate_y(directions, -turn)
    t = np.zeros(directions.shape[:2])
    hit = np.zeros_like(t, dtype=bool)
    for _ in range(96):
        distance, _ = _mug_sdf(origin + direction * t[..., None])
        hit |= distance < 1e-3
        t = np.where(hit, t, t + distance * 0.9)
        if np.all(hit | (t > 8)):
            break
    point = origin + direction * t[..., None]
    _, material = _mug_sdf(point)
    # 3. Shading: Lambert + Blinn specular + a soft floor shadow; background is a light studio grey.
    normal = _normals(point)
    light = _rotate_y(np.array([-0.5, 0.8, 0.6]) / np.linalg.norm([-0.5, 0.8, 0.6]), -turn)
    view = -direction
    half_vector = light + view
    half_vector /= np.linalg.norm(half_vector, axis=-1, keepdims=True)
    diffuse = np.clip((normal * light).sum(-1), 0, 1)
    specular = np.clip((normal * half_vector).sum(-1), 0, 1) ** 40
    colour = _albedo(point, material) * (0.28 + 0.72 * diffuse[..., None]) + 0.35 * specular[..., None]
    background = np.empty_like(colour)
    gradient = np.linspace(0.96, 0.80, size)[:, None, None]
    background[:] = gradient
    # Floor shadow: darken the background under the mug's footprint (ground plane y=0).
    floor_t = np.where(np.abs(directions[..., 1]) > 1e-6, -eye[1] / directions[..., 1], -1)
    floor = eye + directions * floor_t[..., None]
    shadow = np.exp(-((floor[..., 0] - 0.1) ** 2 + floor[..., 2] ** 2) / (2 * 0.45**2))
    background *= 1 - 0.35 * (shadow * (floor_t > 0))[..., None]
    image = np.where(hit[..., None], colour, background)
    return Image.fromarray(np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8))


def render_turntable(out_dir: str | Path, frames: int = 36, size: int = 160) -> list[Path]:
    """Write ``frames`` renders covering 360 degrees to ``out_dir`` as ``mug_000.png``, ... .

    Examples
    --------
    >>> paths = render_turntable("/tmp/mug", frames=4, size=64)  # doctest: +SKIP
    """
    if frames < 3:
        raise ValueError(f"`frames` must be at least 3, got {frames}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, angle in enumerate(np.arange(frames) * 360.0 / frames):
        path = out / f"mug_{round(angle):03d}.png"
        render_mug(float(angle), size=size).save(path, optimize=True)
        paths.append(path)
    return paths


if __name__ == "__main__":
    import sys

    target = sys.argv[1] if len(sys.argv) > 1 else "assets/turntable"
    print("\n".join(str(p) for p in render_turntable(target)))
