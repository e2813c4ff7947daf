"""Helper run in a subprocess by test_training.py (distribution and kill/resume tests)."""

import json
import os
import sys

import numpy as np

if os.environ.get("FL_TWO_CPUS"):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras
from PIL import Image

from facelandmarks import LandmarkDataset, LandmarkDetector


def main() -> None:
    work = sys.argv[1]
    mode = sys.argv[2]
    paths = []
    for i in range(8):
        p = os.path.join(work, f"{i}.png")
        if not os.path.exists(p):
            img = np.random.default_rng(i).integers(0, 255, (40, 30, 3), np.uint8)
            Image.fromarray(img).save(p)
        paths.append(p)
    lm = np.random.default_rng(0).uniform(5, 25, (8, 76, 2)).astype(np.float32)
    ds = LandmarkDataset(paths, lm, list("abcdefgh"), list("abcdefgh"), ["a"] * 8)
    strategy = None
    if mode == "mirrored":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    det = LandmarkDetector(
        weights=None,
        backbone="mobilenetv3small",
        input_size=(32, 32),
        normalization="group",
        strategy=strategy,
    )
    callbacks = []
    if mode == "kill":

        class Kill(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == 2:
                    os._exit(17)  # simulate a crash after two finished epochs

        callbacks.append(Kill())
    h = det.fit(
        ds,
        epochs=3,
        batch_size=4,
        verbose=0,
        callbacks=callbacks,
        checkpoint_dir=os.path.join(work, "ckpt") if mode in ("kill", "resume") else None,
    )
    out = {
        "epochs_run": len(h.history["loss"]),
        "replicas": strategy.num_replicas_in_sync if strategy else 1,
        "pred_shape": list(det.predict(paths[:2], framing="image").shape),
    }
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
