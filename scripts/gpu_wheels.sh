#!/usr/bin/env bash
# Downloads, into .whl/, the wheels that a GPU machine with PyTorch and JAX but no TensorFlow lacks (the project's
# lent H100 image: Python 3.12, no network there), pinned as in requirements-torch.txt. scripts/gpu_train.sh
# installs them from .whl/ when it finds the folder. About 20 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
MISSING="keras namex optree albumentations albucore pydantic pydantic-core annotated-types typing-inspection simsimd stringzilla shapely"
mkdir -p .whl
for name in $MISSING; do
  pin=$(grep -i "^${name}==" requirements-torch.txt) || { echo "no pin for $name in requirements-torch.txt" >&2; exit 2; }
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any -d .whl "$pin"
done
du -sh .whl
