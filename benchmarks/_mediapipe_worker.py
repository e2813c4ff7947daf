"""MediaPipe face mesh timed in its own process, for ``benchmarks/latency.py``.

Run by that script with the Python of a separate virtual environment that has ``mediapipe``
(0.10.21 needs ``numpy<2`` and ``protobuf<5``, which this project's environment does not allow).
Imports only NumPy and MediaPipe, never ``facelandmarks``.

Protocol, one line each way: the parent writes ``run N``; the worker times ``N`` calls of
``FaceMesh(static_image_mode=True).process(image)`` (detection + 468 points on every call) and
answers a JSON object ``{"seconds": [...], "cpu": [...], "faces": F}`` (wall and process CPU
seconds per call: MediaPipe runs its graph on several threads, all counted); ``quit`` ends it.
The image comes as a ``.npy`` file (uint8 ``(H, W, 3)`` RGB) named on the command line.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def main() -> None:
    import mediapipe as mp

    image = np.ascontiguousarray(np.load(sys.argv[1]))
    mesh = mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=1, refine_landmarks=False
    )
    result = mesh.process(image)
    faces = len(result.multi_face_landmarks or [])
    print(json.dumps({"ready": True, "mediapipe": mp.__version__, "faces": faces}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        wall, cpu = [], []
        for _ in range(int(command[1])):
            t0, c0 = time.perf_counter(), time.process_time()
            result = mesh.process(image)
            c1, t1 = time.process_time(), time.perf_counter()
            wall.append(t1 - t0)
            cpu.append(c1 - c0)
        faces = len(result.multi_face_landmarks or [])
        print(json.dumps({"seconds": wall, "cpu": cpu, "faces": faces}), flush=True)
    mesh.close()


if __name__ == "__main__":
    main()
